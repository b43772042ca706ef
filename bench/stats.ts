/**
 * Latency histogram with logarithmic buckets 1% wide, from 1 µs to 1000 s: constant memory and
 * O(1) recording however many million deliveries a run makes, at a precision far finer than
 * the run-to-run noise of a shared machine. Percentiles report a bucket's upper edge.
 */

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket count covering 1 µs .. 1e9 µs (1000 s); slower samples land in the last bucket. */
const BUCKETS = Math.ceil(Math.log(1e9) / LOG_GROWTH) + 1;

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #n = 0;
  #max = 0;

  get count(): number {
    return this.#n;
  }

  /** Records one latency in microseconds. */
  record(us: number): void {
    const v = us < 1 ? 1 : us;
    if (v > this.#max) this.#max = v;
    const i = Math.min(BUCKETS - 1, Math.ceil(Math.log(v) / LOG_GROWTH));
    this.#counts[i]++;
    this.#n++;
  }

  /** The latency (µs) at quantile q in [0, 1], or undefined if nothing was recorded. */
  quantile(q: number): number | undefined {
    if (this.#n === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.#n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(GROWTH ** i, this.#max);
    }
    return this.#max;
  }
}

/** Median of a list of numbers (for combining repeated runs); undefined if none are numbers. */
export function median(xs: (number | undefined | null)[]): number | undefined {
  const v = xs.filter((x): x is number => typeof x === "number").sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
