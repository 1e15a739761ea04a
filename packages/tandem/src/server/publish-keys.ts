const encoder = new TextEncoder();

/**
 * The publish keys, compared in constant time: how long a comparison takes depends on the
 * length of the key presented and on how many keys there are, never on how much of one matched
 * or which one did. Written out rather than `crypto.timingSafeEqual`, which the server core (it
 * runs on any Fetch runtime) may not import.
 */
export class PublishKeys {
  private readonly keys: readonly Uint8Array[];

  constructor(keys: readonly string[]) {
    this.keys = keys.map((key) => encoder.encode(key));
  }

  get size(): number {
    return this.keys.length;
  }

  /** Whether `candidate` is one of the keys; every key is compared, whatever matched first. */
  matches(candidate: string): boolean {
    const given = encoder.encode(candidate);
    let found = 0;
    for (const key of this.keys) found |= sameBytes(given, key);
    return found === 1;
  }
}

/** 1 when equal, else 0; XORs every byte of `given` whatever the key's length (never empty). */
function sameBytes(given: Uint8Array, key: Uint8Array): number {
  let diff = given.length ^ key.length;
  for (let i = 0; i < given.length; i++) diff |= given[i]! ^ key[i % key.length]!;
  return diff === 0 ? 1 : 0;
}
