/**
 * A token bucket: `burst` tokens at most, refilled continuously at `perSecond`. Used for the
 * per-connection frame rate (framesPerSecond/frameBurst), the bad-frame allowance and, on the
 * client, to pace its own sending under the server's limit. Time is passed in so the caller
 * reads the clock once per frame.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;

  /** perSecond 0 means unlimited: take() always succeeds. */
  constructor(readonly perSecond: number, readonly burst: number, now = performance.now()) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token: 0 if there was one, else the milliseconds until there will be. */
  take(now = performance.now()): number {
    if (this.perSecond <= 0) return 0;
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) * this.perSecond) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.perSecond);
  }
}
