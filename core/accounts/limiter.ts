/**
 * Counts login failures per key (an (account, address) pair, an address, or an account) in a
 * sliding window. Once `max` failures fall inside the window the key is blocked until the
 * oldest of them leaves it, so password guessing runs at `max` tries per window per key.
 */

/** Keys tracked at most; beyond this the oldest entries are forgotten first. Bounds memory
 *  against an attacker who fails logins under millions of made-up names. */
const MAX_TRACKED_KEYS = 100_000;

export class FailureLimiter {
  /** Failure times per key, oldest first, at most `max` long. Map order = first insertion. */
  readonly #failures = new Map<string, number[]>();

  constructor(readonly max: number, readonly windowMs: number) {}

  /** Milliseconds until `key` may try again; 0 if it may try now. Failures at or before
   *  `since` do not count: an account's password changed then (possibly by another process,
   *  `classchat admin reset-password`, whose only trace here is the account's updated_at). */
  blockedFor(key: string, now = Date.now(), since = 0): number {
    const times = this.#recent(key, now);
    // At most `max` times are kept, so one at or before `since` leaves fewer than `max`.
    if (!times || times.length < this.max || times[0] <= since) return 0;
    return times[0] + this.windowMs - now;
  }

  fail(key: string, now = Date.now()): void {
    const times = this.#recent(key, now) ?? [];
    times.push(now);
    if (times.length > this.max) times.shift();
    this.#failures.delete(key); // re-insert: the map stays ordered by last failure
    this.#failures.set(key, times);
    if (this.#failures.size > MAX_TRACKED_KEYS) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
  }

  /** Takes back the latest failure: an attempt counted up front that turned out right. */
  forgive(key: string): void {
    const times = this.#failures.get(key);
    times?.pop();
    if (times?.length === 0) this.#failures.delete(key);
  }

  reset(key: string): void {
    this.#failures.delete(key);
  }

  get size(): number {
    return this.#failures.size;
  }

  #recent(key: string, now: number): number[] | undefined {
    const times = this.#failures.get(key);
    if (!times) return undefined;
    while (times.length && times[0] <= now - this.windowMs) times.shift();
    if (times.length === 0) {
      this.#failures.delete(key);
      return undefined;
    }
    return times;
  }
}
