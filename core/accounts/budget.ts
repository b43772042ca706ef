/**
 * Login budgets, kept in memory (the model is in docs/PROTOCOL.md, "Failed logins"). They
 * are built so that nobody but the owner can keep the owner out:
 *
 * - a valid resume token is always accepted: it is the owner's device, whatever the counts;
 * - wrong passwords count per (account, address) pair: past loginFailuresPerAccount only that
 *   pair is refused, so a stranger's guesses lock out the stranger, not the owner elsewhere;
 * - failures count per address across accounts (loginFailuresPerAddress; wrong tokens too);
 * - against guessing from many addresses, past loginSlowdownAfter wrong passwords on one
 *   account (from all addresses) its password logins from addresses it has never logged in
 *   from are served in turn, loginSlowdownMs apart: a delay, never a lock. Addresses it has
 *   logged in from skip the queue.
 *
 * Failures made before the account's password last changed do not count (`since`, its
 * updated_at), so a change or an operator's reset, even from another process, lifts them.
 */
import { ChatError } from "../../protocol/errors.ts";
import type { Limits } from "../../protocol/limits.ts";
import { FailureLimiter } from "./limiter.ts";

export type LoginLimits = Pick<
  Limits,
  | "loginFailuresPerAccount"
  | "loginFailuresPerAddress"
  | "loginWindowMs"
  | "loginSlowdownAfter"
  | "loginSlowdownMs"
  | "loginSlowdownMaxWaitMs"
>;

/** Accounts whose known addresses or queue turn are remembered at most; the least recently
 *  used go first. As in limiter.ts: bounds memory whatever the traffic. */
export const MAX_TRACKED_ACCOUNTS = 100_000;
/** Addresses remembered per account (home, campus, phone, a café ...); the least recently
 *  used go first. Forgetting one only means that address waits its turn during an attack. */
export const KNOWN_ADDRESSES_PER_ACCOUNT = 8;

export class LoginBudget {
  readonly #byPair: FailureLimiter;
  readonly #byAddress: FailureLimiter;
  readonly #byAccount: FailureLimiter;
  /** Account -> addresses it logged in from, most recent last. */
  readonly #known = new Map<string, string[]>();
  /** Account -> when the next slowed attempt on it may start. */
  readonly #nextTurn = new Map<string, number>();

  constructor(readonly limits: LoginLimits) {
    const window = limits.loginWindowMs;
    this.#byPair = new FailureLimiter(limits.loginFailuresPerAccount, window);
    this.#byAddress = new FailureLimiter(limits.loginFailuresPerAddress, window);
    this.#byAccount = new FailureLimiter(limits.loginSlowdownAfter, window);
  }

  /** Any password attempt, creating an account too. Throws RATE_LIMITED. */
  checkAddress(address: string, now = Date.now()): void {
    refuseFor(this.#byAddress.blockedFor(address, now), "too many failed logins from here");
  }

  /** A password attempt on an existing account whose password last changed at `since`.
   *  Throws RATE_LIMITED. */
  checkPassword(account: string, address: string, since: number, now = Date.now()): void {
    this.checkAddress(address, now);
    refuseFor(
      this.#byPair.blockedFor(pairKey(account, address), now, since),
      "too many wrong passwords for this account from here",
    );
  }

  /** Milliseconds this attempt waits for its turn (0: none), the turn then being reserved.
   *  Throws RATE_LIMITED, at once, when the wait would pass loginSlowdownMaxWaitMs. */
  turn(account: string, address: string, since: number, now = Date.now()): number {
    if (this.#known.get(account)?.includes(address)) return 0;
    if (this.#byAccount.blockedFor(account, now, since) === 0) return 0;
    const start = Math.max(now, this.#nextTurn.get(account) ?? 0);
    const wait = start - now;
    const over = wait - this.limits.loginSlowdownMaxWaitMs;
    refuseFor(over, "this account is getting many wrong passwords; logins from new places wait");
    touch(this.#nextTurn, account, start + this.limits.loginSlowdownMs);
    return wait;
  }

  /** Counts an attempt as failed before the slow hash, so parallel guesses cannot all pass
   *  the checks; succeeded() takes it back. */
  failed(account: string, address: string, now = Date.now()): void {
    this.#byPair.fail(pairKey(account, address), now);
    this.#byAddress.fail(address, now);
    this.#byAccount.fail(account, now);
  }

  /** The attempt counted by failed() had the right password: takes that count back, forgets
   *  the pair's typos and remembers the address. */
  succeeded(account: string, address: string): void {
    this.#byPair.reset(pairKey(account, address));
    this.#byAddress.forgive(address);
    this.#byAccount.forgive(account);
    this.loggedIn(account, address);
  }

  /** The owner is here (a new account, a valid token, a right password): remembers where. */
  loggedIn(account: string, address: string): void {
    const list = (this.#known.get(account) ?? []).filter((a) => a !== address);
    list.push(address);
    if (list.length > KNOWN_ADDRESSES_PER_ACCOUNT) list.shift();
    touch(this.#known, account, list);
  }

  /** A wrong or expired resume token: counts against the address, or throws RATE_LIMITED if
   *  the address has no budget left (checked after the lookup: a valid token always wins). */
  badToken(address: string, now = Date.now()): void {
    this.checkAddress(address, now);
    this.#byAddress.fail(address, now);
  }

  /** Entries held, for tests of the memory bounds. */
  get tracked(): { known: number; turns: number } {
    return { known: this.#known.size, turns: this.#nextTurn.size };
  }
}

/** Names and addresses contain no newline, so this joins them unambiguously. */
function pairKey(account: string, address: string): string {
  return `${account}\n${address}`;
}

/** Sets `key` as the most recently used entry, forgetting the least recently used past
 *  MAX_TRACKED_ACCOUNTS (a Map iterates in insertion order). */
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED_ACCOUNTS) map.delete(map.keys().next().value!);
}

function refuseFor(waitMs: number, why: string): void {
  if (waitMs <= 0) return;
  const retryAfterMs = Math.ceil(waitMs);
  throw new ChatError(
    "RATE_LIMITED",
    `${why}; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
    { retryAfterMs },
  );
}
