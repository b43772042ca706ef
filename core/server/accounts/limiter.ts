/**
 * Counts login failures per key (an (account, address) pair, an address, or an account) in a
 * sliding window. Once `max` failures fall inside the window the key is blocked until the
 * oldest of them leaves it, so password guessing runs at `max` tries per window per key.
 *
 * Attempts still in flight (begun, not yet ended: waiting their turn or being hashed) count
 * as failures until they end, so parallel attempts cannot all pass the check; one that ends
 * right, or is not made after all, simply stops counting. (Counting them as failures up
 * front and taking a count back later would lose counts: a key keeps only its newest `max`.)
 */

/** Keys tracked at most; beyond this the oldest entries are forgotten first. Bounds memory
 *  against an attacker who fails logins under millions of made-up names. */
const MAX_TRACKED_KEYS = 100_000;
/** The retry hint while attempts in flight alone fill a key's budget: they end within a
 *  turn's wait and a hash, and may well end right; a second is a fair time to look again. */
const IN_FLIGHT_RETRY_MS = 1000;

export class FailureLimiter {
  /** Failure times per key, oldest first, at most `max` long. Map order = first insertion. */
  readonly #failures = new Map<string, number[]>();
  /** Attempts in flight per key; a key leaves when its last one ends. At most one per open
   *  connection, so bounded by the connection limits. */
  readonly #inFlight = new Map<string, number>();

  constructor(readonly max: number, readonly windowMs: number) {}

  /** Milliseconds until `key` may try again; 0 if it may try now. Failures at or before
   *  `since` do not count: an account's password changed then (possibly by another process,
   *  `classchat admin reset-password`, whose only trace here is the account's updated_at). */
  blockedFor(key: string, now = Date.now(), since = 0): number {
    const times = this.#recent(key, now) ?? [];
    const first = times.findIndex((t) => t > since); // the oldest that counts
    const counted = first < 0 ? 0 : times.length - first;
    const over = counted + (this.#inFlight.get(key) ?? 0) - this.max; // >= 0: blocked
    if (over < 0) return 0;
    // Blocked until `over + 1` counted failures leave the window, or attempts in flight end.
    return over < counted ? times[first + over] + this.windowMs - now : IN_FLIGHT_RETRY_MS;
  }

  /** An attempt begins: it counts as a failure until end(). */
  begin(key: string): void {
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
  }

  /** The attempt begun on `key` ended: a failure if `failed`, else it counts no more. */
  end(key: string, failed: boolean, now = Date.now()): void {
    const n = (this.#inFlight.get(key) ?? 0) - 1;
    if (n > 0) this.#inFlight.set(key, n);
    else this.#inFlight.delete(key);
    if (failed) this.fail(key, now);
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
