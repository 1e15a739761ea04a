/**
 * The one clock of the benchmark: CLOCK_MONOTONIC (what `process.hrtime` reads), in ms. It is
 * shared by every process on the machine, unlike `performance.now()` (per-process origin) and
 * `performance.timeOrigin + now()`, whose origins disagree by up to a millisecond between
 * processes; and it does not jump with NTP like `Date.now()`.
 */
export function clockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
