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
 * this one (the same turn of the event loop) forgets that outcome, and its repeat runs again.
 */
import type { ErrorCode } from "../protocol/errors.ts";
import type { Logger } from "./log.ts";
import type { Db, Migration } from "./storage/db.ts";
import { migrate } from "./storage/migrate.ts";

export type Outcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; code: ErrorCode; message: string; extra?: Record<string, unknown> };

/** Outcomes kept per account, the newest. A client resends only what it has not seen
 *  answered, at most CLIENT_UNSENT_LIMIT (256, core/client_sends.ts) requests, so twice that
 *  covers every resend with room to spare, and an account costs at most ~60 KB of store. */
export const TXN_RETAIN_PER_ACCOUNT = 512;
/** An answer longer than this (in JSON characters) is not recorded: only reads answer at
 *  length (history, member lists), and a read may run again. Sends' acks are ~100 bytes. */
export const TXN_MAX_ANSWER_CHARS = 4096;
/** Outcomes not recorded, so that a repeat runs again: the server's own failure (nothing was
 *  done, e.g. the commit failed) and a frame budget refusal (try again later). */
const NOT_RECORDED = new Set<string>(["INTERNAL", "RATE_LIMITED"]);

/** Its migrations' owner in core_migrations: in the core's namespace, and no plugin's name. */
const OWNER = "session.txn";
/** Append-only, like every migration. `n` orders an account's outcomes for retention. */
const MIGRATIONS: Migration[] = [{
  sql: "CREATE TABLE core_txn (account TEXT NOT NULL, txn TEXT NOT NULL, n INTEGER NOT NULL," +
    " answer TEXT NOT NULL, PRIMARY KEY (account, txn));" +
    " CREATE INDEX core_txn_by_n ON core_txn (account, n)",
}];

interface Account {
  /** By txn, oldest first: a recorded outcome, or the promise of one still running. */
  answers: Map<string, Outcome | Promise<Outcome>>;
  /** The number of the newest recorded outcome. */
  n: number;
}

interface Row {
  account: string;
  txn: string;
  n: number;
  answer: string;
}

export class TxnLog {
  readonly #accounts = new Map<string, Account>();
  /** Recorded, not yet committed: waiting for the timer, and in the transaction now. */
  #unflushed: Row[] = [];
  #writing: Row[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    /** Whether the account has a session logged in (its outcomes stay in memory while so). */
    private readonly online: (account: string) => boolean,
    readonly retain = TXN_RETAIN_PER_ACCOUNT,
  ) {}

  open(): Promise<void> {
    return migrate(this.db, OWNER, MIGRATIONS);
  }

  /** Loads an account's recorded outcomes; called at login, before its ack. */
  async load(name: string): Promise<void> {
    const key = name.toLowerCase();
    if (this.#accounts.has(key)) return;
    const rows = await this.db.all<{ txn: string; n: number; answer: string }>(
      "SELECT txn, n, answer FROM core_txn WHERE account = ? ORDER BY n",
      [key],
    );
    if (this.#accounts.has(key)) return;
    const a: Account = { answers: new Map(), n: 0 };
    const recent = [...this.#writing, ...this.#unflushed].filter((r) => r.account === key);
    for (const r of [...rows, ...recent]) {
      a.answers.delete(r.txn);
      a.answers.set(r.txn, JSON.parse(r.answer));
      a.n = Math.max(a.n, r.n);
    }
    this.#accounts.set(key, a);
  }

  /** Runs `fn` unless this (account, txn) ran already: then its outcome, or its promise. */
  run(
    name: string,
    txn: string,
    fn: () => Outcome | Promise<Outcome>,
  ): Outcome | Promise<Outcome> {
    const key = name.toLowerCase();
    let a = this.#accounts.get(key);
    // Loaded at login; an account logged in some other way is recorded from now on.
    if (!a) this.#accounts.set(key, a = { answers: new Map(), n: 0 });
    const prior = a.answers.get(txn);
    if (prior !== undefined) return prior;
    const out = fn();
    if (!(out instanceof Promise)) return this.#settle(key, a, txn, out);
    const running = out.then((o) => this.#settle(key, a, txn, o));
    a.answers.set(txn, running);
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
    await (this.#flushing = this.#flushing.then(() => this.#flush()));
  }

  #evict(key: string) {
    const a = this.#accounts.get(key);
    if (!a || this.online(key)) return;
    for (const v of a.answers.values()) if (v instanceof Promise) return;
    this.#accounts.delete(key);
  }

  #settle(key: string, a: Account, txn: string, o: Outcome): Outcome {
    a.answers.delete(txn);
    const answer = JSON.stringify(o);
    if ((!o.ok && NOT_RECORDED.has(o.code)) || answer.length > TXN_MAX_ANSWER_CHARS) {
      return o;
    }
    a.answers.set(txn, o);
    a.n++;
    for (const [t, v] of a.answers) {
      if (a.answers.size <= this.retain) break;
      if (!(v instanceof Promise)) a.answers.delete(t);
    }
    this.#unflushed.push({ account: key, txn, n: a.n, answer });
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, 0);
    if (!this.online(key)) this.release(key);
    return o;
  }

  async #flush(): Promise<void> {
    const batch = this.#writing = this.#unflushed;
    this.#unflushed = [];
    if (batch.length === 0) return;
    const newest = new Map<string, number>();
    for (const r of batch) newest.set(r.account, Math.max(newest.get(r.account) ?? 0, r.n));
    try {
      await this.db.tx(async (tx) => {
        for (const r of batch) {
          await tx.run(
            "INSERT OR REPLACE INTO core_txn (account, txn, n, answer) VALUES (?, ?, ?, ?)",
            [r.account, r.txn, r.n, r.answer],
          );
        }
        for (const [account, n] of newest) {
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
