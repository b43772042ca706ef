/**
 * Transaction ids (docs/PROTOCOL.md, "Transaction ids"): a request from a logged-in session may
 * carry `txn`, chosen by the client (as Matrix's txnId), so that the client can send it again
 * after a dropped connection without it being done twice. The router runs a handler once per
 * (account, txn); a repeat is answered with the recorded outcome (the ack's fields, or the
 * error) under its own `id`. A repeat that arrives while the first still runs (its connection
 * dropped while it waited for the message log's commit) waits for that same outcome.
 *
 * The outcomes of logged-in accounts are kept in memory (loaded at login, before the login's
 * ack) and written to the store on the next turn of the event loop, one transaction for all
 * that finished meanwhile (group commit, as the message log does), so a repeat is found after a
 * server restart too. The window left: a server that dies between a handler's own commit and
 * this one (milliseconds: the next group commit, longer under load) forgets that outcome, and
 * its repeat runs again.
 *
 * A txn names one request: each outcome is kept with the request's type and a hash of its
 * fields, and a repeat that differs (a client reusing a txn by mistake) is refused rather than
 * answered with another request's outcome.
 */
import type { ErrorCode } from "../../protocol/errors.ts";
import type { Logger } from "../log.ts";
import { Mutex } from "../mutex.ts";
import type { Db, Migration } from "./storage/db.ts";
import { migrate } from "./storage/migrate.ts";

export type Outcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; code: ErrorCode; message: string; extra?: Record<string, unknown> };

/** Outcomes kept per account, the newest. A client resends only what it has not seen
 *  answered, at most CLIENT_UNSENT_LIMIT (256, core/client/sends.ts) requests, so this covers
 *  every resend with room to spare; with TXN_MAX_ANSWER_CHARS an account costs at most
 *  ~100 KB (memory while online, and store). */
export const TXN_RETAIN_PER_ACCOUNT = 300;
/** An answer longer than this (in JSON characters) is not recorded: a message's ack is about
 *  100, and only reads answer at length (history, member lists); a read may run again. */
export const TXN_MAX_ANSWER_CHARS = 256;
/** Outcomes older than this are forgotten (at start-up, and at the account's login): a
 *  client resends within its reconnect, and after a day nothing is waiting to be resent. */
export const TXN_RETAIN_MS = 24 * 60 * 60 * 1000;
/** Outcomes not recorded, so that a repeat runs again: the server's own failure (nothing was
 *  done, e.g. the commit failed), a store out of reach, and a frame budget refusal (try again
 *  later). */
const NOT_RECORDED = new Set<string>(["INTERNAL", "RATE_LIMITED", "UNAVAILABLE"]);

/** Its migrations' owner in core_migrations: in the core's namespace, and no plugin's name. */
const OWNER = "session.txn";
/** Append-only, like every migration. One row an outcome, keyed by the account and `n`, the
 *  number that orders an account's outcomes: one index to write per message, and retention
 *  is a range delete on it. `req` is the request's type and hash (see requestKey), `at` when
 *  it was recorded. A txn is looked up in memory (an account's rows are loaded at login). */
const MIGRATIONS: Migration[] = [{
  sql: "CREATE TABLE core_txn (account TEXT NOT NULL, n INTEGER NOT NULL, txn TEXT NOT NULL," +
    " req TEXT NOT NULL, answer TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (account, n))",
}];
/** Outcomes recorded between two retention deletes of an account: one delete statement per
 *  this many messages rather than one per commit. */
const PRUNE_EVERY = 32;

/** What identifies a request behind a txn: its type and a hash (FNV-1a, 32 bits) of its
 *  fields as they came, but `id`, which a resend changes. Not a secret: it only tells a
 *  repeat from a different request that reuses the txn. */
export function requestKey(frame: Record<string, unknown>): string {
  const { id: _id, ...rest } = frame;
  const text = JSON.stringify(rest);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `${frame.type}:${(h >>> 0).toString(16)}`;
}

/** The refusal of a txn reused for another request. */
const REUSED: Outcome = {
  ok: false,
  code: "BAD_FRAME",
  message: "this txn was used for a different request: each request needs its own",
};

interface Entry {
  /** The request it answers (requestKey). */
  req: string;
  /** The recorded outcome, or the promise of one still running. */
  out: Outcome | Promise<Outcome>;
}

interface Account {
  /** By txn, oldest first. */
  answers: Map<string, Entry>;
  /** The number of the newest recorded outcome, and what it was at the last retention
   *  delete (see PRUNE_EVERY). */
  pruned: number;
  /** The number of the newest recorded outcome. */
  n: number;
}

type Row = {
  account: string;
  txn: string;
  n: number;
  answer: string;
  req: string;
  at: number;
};

export class TxnLog {
  readonly #accounts = new Map<string, Account>();
  /** Recorded, not yet committed: waiting for the timer, and in the transaction now. */
  #unflushed: Row[] = [];
  #writing: Row[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Commits one at a time (#flush logs its own failure and never rejects). */
  readonly #flushing = new Mutex();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    /** Whether the account has a session logged in (its outcomes stay in memory while so). */
    private readonly online: (account: string) => boolean,
    readonly retain = TXN_RETAIN_PER_ACCOUNT,
  ) {}

  async open(): Promise<void> {
    await migrate(this.db, OWNER, MIGRATIONS);
    // Once at start-up, the only scan of the whole table.
    await this.db.run("DELETE FROM core_txn WHERE at < ?", [Date.now() - TXN_RETAIN_MS]);
  }

  /** Loads an account's recorded outcomes; called at login, before its ack. */
  async load(name: string): Promise<void> {
    const key = name.toLowerCase();
    if (this.#accounts.has(key)) return;
    const rows = await this.db.all<Omit<Row, "account">>(
      "SELECT txn, n, answer, req, at FROM core_txn WHERE account = ? ORDER BY n",
      [key],
    );
    if (this.#accounts.has(key)) return;
    const recent = [...this.#writing, ...this.#unflushed].filter((r) => r.account === key);
    // Nothing recorded: no entry until its first request with a txn (run makes one then, as
    // it would have been here), so an idle account of thousands costs no map.
    if (rows.length === 0 && recent.length === 0) return;
    const a: Account = { answers: new Map(), n: 0, pruned: 0 };
    const since = Date.now() - TXN_RETAIN_MS;
    for (const r of [...rows, ...recent]) {
      // Numbered after every row still stored, forgotten or not, so none is overwritten.
      a.n = Math.max(a.n, r.n);
      if (r.at < since) continue;
      a.answers.delete(r.txn);
      a.answers.set(r.txn, { req: r.req, out: JSON.parse(r.answer) });
    }
    a.pruned = a.n;
    this.#accounts.set(key, a);
  }

  /** Runs `fn` unless this (account, txn) ran already: then its outcome, or its promise; a
   *  txn that answered another request (`req`, see requestKey) is refused. */
  run(
    name: string,
    txn: string,
    req: string,
    fn: () => Outcome | Promise<Outcome>,
  ): Outcome | Promise<Outcome> {
    const key = name.toLowerCase();
    let a = this.#accounts.get(key);
    // Loaded at login; an account logged in some other way is recorded from now on.
    if (!a) this.#accounts.set(key, a = { answers: new Map(), n: 0, pruned: 0 });
    const prior = a.answers.get(txn);
    if (prior !== undefined) return prior.req === req ? prior.out : REUSED;
    const out = fn();
    if (!(out instanceof Promise)) return this.#settle(key, a, txn, req, out);
    const running = out.then((o) => this.#settle(key, a, txn, req, o));
    a.answers.set(txn, { req, out: running });
    return running;
  }

  /** The account's last session left: forget it (later, so that a resume that replaces the
   *  session keeps it), unless one of its requests is still running. */
  release(name: string): void {
    const key = name.toLowerCase();
    setTimeout(() => this.#evict(key), 0);
  }

  /** Commits what is recorded; for shutdown. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#flushing.run(() => this.#flush());
  }

  #evict(key: string) {
    const a = this.#accounts.get(key);
    if (!a || this.online(key)) return;
    for (const v of a.answers.values()) if (v.out instanceof Promise) return;
    this.#accounts.delete(key);
  }

  #settle(key: string, a: Account, txn: string, req: string, o: Outcome): Outcome {
    a.answers.delete(txn);
    const answer = JSON.stringify(o);
    if ((!o.ok && NOT_RECORDED.has(o.code)) || answer.length > TXN_MAX_ANSWER_CHARS) {
      // Not kept; an account that left meanwhile is still forgotten.
      if (!this.online(key)) this.release(key);
      return o;
    }
    a.answers.set(txn, { req, out: o });
    a.n++;
    for (const [t, v] of a.answers) {
      if (a.answers.size <= this.retain) break;
      if (!(v.out instanceof Promise)) a.answers.delete(t);
    }
    this.#unflushed.push({ account: key, txn, n: a.n, answer, req, at: Date.now() });
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#flushing.run(() => this.#flush());
    }, 0);
    if (!this.online(key)) this.release(key);
    return o;
  }

  async #flush(): Promise<void> {
    const batch = this.#writing = this.#unflushed;
    this.#unflushed = [];
    if (batch.length === 0) return;
    // Accounts past PRUNE_EVERY new outcomes since their last retention delete (or forgotten
    // meanwhile), with their newest number.
    const prune = new Map<string, number>();
    for (const r of batch) {
      const a = this.#accounts.get(r.account);
      if (a && r.n - a.pruned < PRUNE_EVERY) continue;
      if (a) a.pruned = r.n;
      prune.set(r.account, Math.max(prune.get(r.account) ?? 0, r.n));
    }
    try {
      await this.db.tx(async (tx) => {
        for (const r of batch) {
          await tx.run(
            "INSERT INTO core_txn (account, n, txn, req, answer, at) VALUES (?, ?, ?, ?, ?, ?)" +
              " ON CONFLICT (account, n) DO UPDATE SET txn = excluded.txn, req = excluded.req," +
              " answer = excluded.answer, at = excluded.at",
            [r.account, r.n, r.txn, r.req, r.answer, r.at],
          );
        }
        for (const [account, n] of prune) {
          await tx.run("DELETE FROM core_txn WHERE account = ? AND n <= ?", [
            account,
            n - this.retain,
          ]);
        }
      });
    } catch (e) {
      this.log.error(`recording transaction ids failed: ${e}`);
    } finally {
      this.#writing = [];
    }
  }
}
