/**
 * A small seeded pseudo-random generator (mulberry32) for workloads whose traffic should be
 * the same from run to run, and for tests that must replay a failure (the fuzz and crash
 * tests): Math.random cannot be seeded. Not for anything secret.
 */

export class Rng {
  #state: number;

  /** `stream` gives independent sequences from one seed (one per client, say). */
  constructor(seed: number, stream = 0) {
    // Spread (seed, stream) over 32 bits so that neighbouring streams do not start alike.
    let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    this.#state = (h ^ (h >>> 16)) >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of xs, uniformly. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A number in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Exponentially distributed with this mean: the gaps between events of a Poisson process. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}
