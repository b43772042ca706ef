/**
 * Login budgets, kept in memory (the model is in docs/PROTOCOL.md, "Failed logins"). They
 * are built so that nobody but the owner can keep the owner out:
 *
 * - a valid resume token is always accepted: it is the owner's device, whatever the counts;
 * - wrong passwords count per (account, address) pair: past loginFailuresPerAccount only that
 *   pair is refused, so a stranger's guesses lock out the stranger, not the owner elsewhere;
 * - failed password logins also count per address across accounts (loginFailuresPerAddress),
 *   against one machine trying many names. Past it the address may not sign up, nor log in to
 *   an account that never logged in from it; an account's own known addresses (below) are
 *   held only to the pair limit, since a class shares one NAT address and a stranger on it
 *   must not keep out everyone who logs in from it;
 * - wrong resume tokens count per address on a budget of their own (loginBadTokensPerAddress):
 *   they cost the server no hashing, and must not use up a shared address's password logins;
 * - against guessing from many addresses: past loginSlowdownAfter wrong passwords on one
 *   account (all addresses) its password logins from addresses it never logged in from queue
 *   (queue.ts), served one at a time, loginSlowdownMs apart; one that would wait past
 *   loginSlowdownMaxWaitMs is refused at once. Each address holds at most one place in an
 *   account's queue (a second attempt from it while one waits is refused at once), so the
 *   owner on a new device waits at most one turn per address guessing, plus one: a delay,
 *   never a lock, until loginSlowdownMaxWaitMs / loginSlowdownMs addresses guess at once.
 *   (Not one place per address across accounts: a class's NAT would then share one place.)
 *   Addresses the account has logged in from skip the queue.
 *
 * An attempt is checked, given its place and counted in flight in one synchronous step
 * (begin), before any wait or hashing. In flight it counts as a failure against its pair,
 * address and account (limiter.ts), so parallel attempts see each other, and one that passed
 * is never refused after its wait: no turn goes to an attempt that will not be made. It ends
 * (end) right, wrong (then it counts as a failure), or abandoned, its connection closed while
 * it waited: that hands its turn to the next in line.
 *
 * Failures made before the account's password last changed do not count (`since`, its
 * updated_at), so a change or an operator's reset, even from another process, lifts them.
 */
import { waitText } from "../../../protocol/words.ts";
import { ChatError } from "../../../protocol/errors.ts";
import type { Limits } from "../../../protocol/limits.ts";
import { FailureLimiter } from "./limiter.ts";
import { TurnQueue } from "./queue.ts";

export type LoginLimits = Pick<
  Limits,
  | "loginFailuresPerAccount"
  | "loginFailuresPerAddress"
  | "loginBadTokensPerAddress"
  | "loginWindowMs"
  | "loginSlowdownAfter"
  | "loginSlowdownMs"
  | "loginSlowdownMaxWaitMs"
>;

/** Accounts whose known addresses or queue are remembered at most; the least recently used
 *  go first. As in limiter.ts: bounds memory whatever the traffic. */
export const MAX_TRACKED_ACCOUNTS = 100_000;
/** Addresses remembered per account (home, campus, phone, a café ...); the least recently
 *  used go first. Forgetting one only means that address waits its turn during an attack, and
 *  is held to the address budget. */
export const KNOWN_ADDRESSES_PER_ACCOUNT = 8;

/** How a begun password attempt ended: the password was right or wrong, or it was not
 *  checked after all (its connection closed while it waited, or the store failed). */
export type Outcome = "right" | "wrong" | "abandoned";

/** A password attempt begun (checked, and counted as a failure while in flight): wait for
 *  `turn` if there is one, compare the password, then end() it, exactly once. */
export interface Attempt {
  readonly turn: Promise<void> | undefined;
  /** right: forgets the pair's typos and remembers the address; wrong: counts a failure;
   *  abandoned: gives its place in the queue to the next in line. */
  end(outcome: Outcome): void;
}

export class LoginBudget {
  readonly #byPair: FailureLimiter;
  readonly #byAddress: FailureLimiter;
  readonly #byAccount: FailureLimiter;
  readonly #badTokens: FailureLimiter;
  /** Account -> addresses it logged in from, most recent last. */
  readonly #known = new Map<string, string[]>();
  /** Account -> its slowdown queue, once it has been slowed. */
  readonly #queues = new Map<string, TurnQueue>();

  constructor(readonly limits: LoginLimits) {
    const window = limits.loginWindowMs;
    this.#byPair = new FailureLimiter(limits.loginFailuresPerAccount, window);
    this.#byAddress = new FailureLimiter(limits.loginFailuresPerAddress, window);
    this.#byAccount = new FailureLimiter(limits.loginSlowdownAfter, window);
    this.#badTokens = new FailureLimiter(limits.loginBadTokensPerAddress, window);
  }

  /** A sign-up, or (from begin) a login from an address the account never logged in from:
   *  refused once the address has used up its failures. Throws RATE_LIMITED. */
  checkAddress(address: string, now = Date.now()): void {
    refuseFor(this.#byAddress.blockedFor(address, now), "too many failed logins from here");
  }

  /** Begins a password attempt on an existing account whose password last changed at
   *  `since`: checks the budgets (attempts in flight count as failures), takes a place in
   *  the account's queue if it is slowed, and counts itself in flight, all without an await.
   *  Throws RATE_LIMITED. */
  begin(account: string, address: string, since: number, now = Date.now()): Attempt {
    const known = this.#known.get(account)?.includes(address) ?? false;
    if (!known) this.checkAddress(address, now);
    const pair = pairKey(account, address);
    refuseFor(
      this.#byPair.blockedFor(pair, now, since),
      "too many wrong passwords for this account from here",
    );
    const place = known || this.#byAccount.blockedFor(account, now, since) === 0
      ? undefined
      : this.#place(account, address, now);
    const counts: [FailureLimiter, string][] = [
      [this.#byPair, pair],
      [this.#byAddress, address],
      [this.#byAccount, account],
    ];
    for (const [limiter, key] of counts) limiter.begin(key);
    let ended = false;
    return {
      turn: place?.turn,
      end: (outcome) => {
        if (ended) return;
        ended = true;
        for (const [limiter, key] of counts) limiter.end(key, outcome === "wrong");
        if (outcome === "right") {
          this.#byPair.reset(pair);
          this.loggedIn(account, address);
        }
        if (outcome === "abandoned") place?.leave();
      },
    };
  }

  /** The owner is here (a new account, a valid token, a right password): remembers where. */
  loggedIn(account: string, address: string): void {
    const list = (this.#known.get(account) ?? []).filter((a) => a !== address);
    list.push(address);
    if (list.length > KNOWN_ADDRESSES_PER_ACCOUNT) list.shift();
    touch(this.#known, account, list);
  }

  /** A wrong or expired resume token: counts against the address's token budget, or throws
   *  RATE_LIMITED if it has none left (checked after the lookup: a valid token always wins). */
  badToken(address: string, now = Date.now()): void {
    refuseFor(this.#badTokens.blockedFor(address, now), "too many wrong resume tokens from here");
    this.#badTokens.fail(address, now);
  }

  /** Entries held, for tests of the memory bounds. */
  get tracked(): { known: number; turns: number } {
    return { known: this.#known.size, turns: this.#queues.size };
  }

  /** A place in the slowed account's queue. Throws RATE_LIMITED, at once, if the address
   *  waits in it already or the wait would pass loginSlowdownMaxWaitMs. */
  #place(account: string, address: string, now: number) {
    let queue = this.#queues.get(account);
    if (!queue) queue = new TurnQueue(this.limits.loginSlowdownMs);
    // Kept as the most recently used; a queue forgotten lets its waiters go (releaseAll).
    touch(this.#queues, account, queue, (q) => q.releaseAll());
    const wait = queue.waitFor(now);
    if (queue.holds(address)) {
      refuseFor(Math.max(1, wait), "a login to this account from here is waiting its turn");
    }
    const over = wait - this.limits.loginSlowdownMaxWaitMs;
    refuseFor(over, "this account is getting many wrong passwords; logins from new places wait");
    return queue.take(address, now);
  }
}

/** Names and addresses contain no newline, so this joins them unambiguously. */
function pairKey(account: string, address: string): string {
  return `${account}\n${address}`;
}

/** Sets `key` as the most recently used entry, forgetting the least recently used past
 *  MAX_TRACKED_ACCOUNTS (a Map iterates in insertion order). */
function touch<V>(map: Map<string, V>, key: string, value: V, forget?: (v: V) => void): void {
  map.delete(key);
  map.set(key, value);
  if (map.size <= MAX_TRACKED_ACCOUNTS) return;
  const [oldest, v] = map.entries().next().value!;
  map.delete(oldest);
  forget?.(v);
}

function refuseFor(waitMs: number, why: string): void {
  if (waitMs <= 0) return;
  const retryAfterMs = Math.ceil(waitMs);
  throw new ChatError(
    "RATE_LIMITED",
    `${why}; try again in ${waitText(retryAfterMs)}`,
    { retryAfterMs },
  );
}
