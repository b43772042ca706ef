/** SQLite adapter for the storage port, on node:sqlite (synchronous underneath, async outside). */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Mutex } from "../../mutex.ts";
import type { Db, Row, SqlValue } from "./db.ts";

/**
 * Opens (creating if needed) a database file, or ":memory:".
 * WAL with synchronous=FULL: a commit that returned is on disk even after a power cut or
 * SIGKILL, which is the promise later plugins (offline messages) make to senders.
 */
export function openSqlite(path: string): Db {
  const raw = new DatabaseSync(path);
  raw.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  raw.exec("PRAGMA busy_timeout = 5000;");
  return new SqliteDb(raw, new Map());
}

/** Statements on the one connection, with no queueing: used directly inside a transaction.
 *  Prepared statements are cached by their SQL text: the texts are constants in the code, so
 *  the cache is as large as the number of distinct queries, and the hot path (the message
 *  log's inserts) skips re-parsing its SQL for every message. */
class Statements {
  readonly sharedByNodes = false;
  constructor(
    protected readonly raw: DatabaseSync,
    protected readonly cache: Map<string, StatementSync>,
  ) {}

  #prepare(sql: string): StatementSync {
    let st = this.cache.get(sql);
    if (!st) this.cache.set(sql, st = this.raw.prepare(sql));
    return st;
  }

  runNow(sql: string, params: SqlValue[]) {
    const r = this.#prepare(sql).run(...params);
    return { changes: Number(r.changes), lastId: Number(r.lastInsertRowid) };
  }

  allNow<R extends Row>(sql: string, params: SqlValue[]): R[] {
    return this.#prepare(sql).all(...params) as R[];
  }

  getNow<R extends Row>(sql: string, params: SqlValue[]): R | undefined {
    return this.#prepare(sql).get(...params) as R | undefined;
  }

  /** One connection, the only writer: nothing to take turns with. */
  lock(_key: string): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The shared store. All connections share one SQLite connection on one event loop, so while a
 * transaction is open (its fn may `await`), every other statement and transaction waits its
 * turn; otherwise it would silently become part of that transaction and share its fate.
 *
 * Writes are group-committed: every transaction (and every write outside one, which is a
 * transaction of one statement) asked for in one turn of the event loop runs in one SQLite
 * transaction, each inside its own savepoint, and is answered after the one COMMIT. A COMMIT
 * with synchronous=FULL is an fsync, which node:sqlite waits for on the JavaScript thread:
 * one per write held a registration (an account row, then a resume token) to two fsyncs, and
 * the whole server to about 330 registrations a second (docs/BENCHMARKS.md, issue 19). Each
 * transaction still commits or rolls back alone (its savepoint), and none is answered before
 * it is on disk; a COMMIT that fails fails every transaction of its group.
 */
class SqliteDb extends Statements implements Db {
  readonly #queue = new Mutex();
  #inTx = false;
  /** Transactions asked for since the last group started, in order, and the timer that
   *  starts the next group. */
  #waiting: Array<Waiting<unknown>> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  run(sql: string, params: SqlValue[] = []) {
    return this.tx((t) => t.run(sql, params));
  }

  all<R extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
    if (!this.#inTx) return Promise.resolve(this.allNow<R>(sql, params));
    return this.#queue.run(() => this.allNow<R>(sql, params));
  }

  get<R extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<R | undefined> {
    if (!this.#inTx) return Promise.resolve(this.getNow<R>(sql, params));
    return this.#queue.run(() => this.getNow<R>(sql, params));
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({ fn, resolve, reject } as Waiting<unknown>);
      // The group starts in the next macrotask, so that what this turn asks for joins it.
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#queue.run(() => this.#group()).catch(() => {});
      }, 0);
    });
  }

  /** Runs the transactions waiting, each in a savepoint, inside one SQLite transaction. */
  async #group(): Promise<void> {
    const group = this.#waiting;
    this.#waiting = [];
    if (group.length === 0) return;
    const done: Array<() => void> = [];
    this.#inTx = true;
    try {
      this.raw.exec("BEGIN IMMEDIATE");
      for (const t of group) {
        this.raw.exec("SAVEPOINT one");
        try {
          const result = await t.fn(new TxDb(this.raw, this.cache));
          this.raw.exec("RELEASE one");
          done.push(() => t.resolve(result));
        } catch (e) {
          this.raw.exec("ROLLBACK TO one");
          this.raw.exec("RELEASE one");
          done.push(() => t.reject(e));
        }
      }
      this.raw.exec("COMMIT");
    } catch (e) {
      // BEGIN or COMMIT failed (a full disk, say): nothing of the group is on disk.
      if (this.raw.isTransaction) this.raw.exec("ROLLBACK");
      for (const t of group) t.reject(e);
      return;
    } finally {
      this.#inTx = false;
    }
    for (const answer of done) answer();
  }

  close(): Promise<void> {
    return this.#queue.run(async () => {
      // What was asked for before the close is committed first.
      clearTimeout(this.#timer);
      this.#timer = undefined;
      while (this.#waiting.length) await this.#group();
      if (this.raw.isOpen) this.raw.close();
    });
  }
}

interface Waiting<T> {
  fn: (db: Db) => Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

/** The handle a transaction's fn receives: runs at once; a nested tx joins the outer one. */
class TxDb extends Statements implements Db {
  run(sql: string, params: SqlValue[] = []) {
    return Promise.resolve(this.runNow(sql, params));
  }
  all<R extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
    return Promise.resolve(this.allNow<R>(sql, params));
  }
  get<R extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<R | undefined> {
    return Promise.resolve(this.getNow<R>(sql, params));
  }
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return fn(this);
  }
  close(): Promise<void> {
    return Promise.reject(new Error("close the store, not a transaction"));
  }
}
