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
}

/**
 * The shared store. All connections share one SQLite connection on one event loop, so while a
 * transaction is open (its fn may `await`), every other statement and transaction waits its
 * turn; otherwise it would silently become part of that transaction and share its fate.
 */
class SqliteDb extends Statements implements Db {
  readonly #queue = new Mutex();
  #inTx = false;

  run(sql: string, params: SqlValue[] = []) {
    if (!this.#inTx) return Promise.resolve(this.runNow(sql, params));
    return this.#queue.run(() => this.runNow(sql, params));
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
    return this.#queue.run(async () => {
      this.#inTx = true;
      this.raw.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(new TxDb(this.raw, this.cache));
        this.raw.exec("COMMIT");
        return result;
      } catch (e) {
        this.raw.exec("ROLLBACK");
        throw e;
      } finally {
        this.#inTx = false;
      }
    });
  }

  close(): Promise<void> {
    return this.#queue.run(() => {
      if (this.raw.isOpen) this.raw.close();
    });
  }
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
