/**
 * A log-linear histogram of durations in microseconds, in the spirit of HdrHistogram: exact
 * below 1 024 µs, then 512 sub-buckets per power of two (relative error < 0.2 %). Workers keep
 * one each and send it to the runner as sparse pairs, which merges them; no sample is stored.
 */

const LINEAR = 1024;
const SUB = 512;
const SUB_BITS = 9;

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  const exp = 31 - Math.clz32(us) - SUB_BITS; // ≥ 1 here
  return LINEAR + (exp - 1) * SUB + ((us >>> exp) - SUB);
}

/** The lowest value a bucket holds. */
function lowestOf(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const shift = Math.floor((bucket - LINEAR) / SUB) + 1;
  const sub = ((bucket - LINEAR) % SUB) + SUB;
  return sub * 2 ** shift;
}

/** Largest recordable value: about 35 minutes; larger values are clamped. */
const MAX_US = 2 ** 31 - 1;
const SIZE = bucketOf(MAX_US) + 1;

export interface HistogramData {
  /** [bucket, count] pairs, buckets ascending. */
  buckets: [number, number][];
  count: number;
  maxUs: number;
  sumUs: number;
  /** Samples whose receive time preceded their send time (clock error), recorded as 0. */
  negative: number;
}

export class Histogram {
  private counts = new Float64Array(SIZE);
  count = 0;
  maxUs = 0;
  sumUs = 0;
  negative = 0;

  /** Records a duration in milliseconds (fractional). */
  recordMs(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us >= 0)) {
      this.negative++;
      us = 0;
    }
    if (us > MAX_US) us = MAX_US;
    this.counts[bucketOf(us)]!++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.maxUs = 0;
    this.sumUs = 0;
    this.negative = 0;
  }

  toJSON(): HistogramData {
    const buckets: [number, number][] = [];
    for (let b = 0; b < SIZE; b++) if (this.counts[b]! > 0) buckets.push([b, this.counts[b]!]);
    return { buckets, count: this.count, maxUs: this.maxUs, sumUs: this.sumUs, negative: this.negative };
  }

  merge(data: HistogramData): void {
    for (const [b, c] of data.buckets) this.counts[b]! += c;
    this.count += data.count;
    this.sumUs += data.sumUs;
    this.negative += data.negative;
    if (data.maxUs > this.maxUs) this.maxUs = data.maxUs;
  }

  /** The value at quantile q (0..1) in milliseconds: the lowest value of the bucket holding it. */
  quantileMs(q: number): number {
    if (this.count === 0) return Number.NaN;
    if (q >= 1) return this.maxUs / 1000;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < SIZE; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(lowestOf(b), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  meanMs(): number {
    return this.count === 0 ? Number.NaN : this.sumUs / this.count / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: this.quantileMs(0.5),
      p90: this.quantileMs(0.9),
      p99: this.quantileMs(0.99),
      p999: this.quantileMs(0.999),
      max: this.count === 0 ? Number.NaN : this.maxUs / 1000,
      mean: this.meanMs(),
    };
  }

  static from(parts: Iterable<HistogramData>): Histogram {
    const h = new Histogram();
    for (const p of parts) h.merge(p);
    return h;
  }
}

/** Milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}
