/**
 * The one check of numeric options, shared by hub, brokers and client: a careless value (0, -1,
 * NaN, a string from JavaScript) fails at construction with the option's name, rather than as a
 * timer firing a thousand times a second or a retry loop that never ends.
 */

/**
 * The longest delay a timer can wait: Node and browsers fire a longer one at once (a signed
 * 32-bit millisecond count).
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** What a numeric option must be. */
export interface NumberRule {
  /** Smallest value allowed. @default 0 */
  min?: number;
  /** Largest finite value allowed. @default Number.MAX_SAFE_INTEGER */
  max?: number;
  /** Whole numbers only. @default false */
  integer?: boolean;
  /** `Infinity` is allowed too (where it is documented as "never" or "no limit"). @default false */
  infinite?: boolean;
}

/**
 * `value`, when it is a number that `rule` allows; else a `RangeError` (a `TypeError` when it
 * is not a number at all) naming the option, what it must be, and what it got. Compact: the
 * client's bundle carries it.
 */
export function checkNumber(name: string, value: unknown, rule: NumberRule = {}): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, integer, infinite } = rule;
  const number = typeof value === 'number';
  // NaN fails both comparisons.
  if (
    !number ||
    !(
      (value >= min && value <= max && (!integer || Number.isInteger(value))) ||
      (infinite && value === Number.POSITIVE_INFINITY)
    )
  ) {
    throw new (number ? RangeError : TypeError)(
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}${infinite ? ' or Infinity' : ''}, got ${number ? value : typeof value}`,
    );
  }
  return value;
}

/**
 * Checks every option of `options` that `rules` names and that is set (`undefined` takes its
 * default), each reported as `scope.name`.
 */
export function checkNumbers(
  scope: string,
  options: object | undefined,
  rules: Readonly<Record<string, NumberRule>>,
): void {
  for (const key in rules) {
    const value = (options as Record<string, unknown> | undefined)?.[key];
    if (value !== undefined) checkNumber(scope ? `${scope}.${key}` : key, value, rules[key]);
  }
}
