/** SQLite adapter for the storage port, on node:sqlite (synchronous underneath, async outside). */
import { DatabaseSync } from "node:sqlite";
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
  return new SqliteDb(raw);
}

class SqliteDb implements Db {
  #txDepth = 0;
  /** Serializes transactions: the store is shared by all connections on one event loop, and
   *  an `await` inside a transaction would otherwise let another handler's writes join it. */
  #txQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly raw: DatabaseSync) {}

  run(sql: string, params: SqlValue[] = []) {
    const r = this.raw.prepare(sql).run(...params);
    return Promise.resolve({ changes: Number(r.changes), lastId: Number(r.lastInsertRowid) });
  }

  all<R extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<R[]> {
    return Promise.resolve(this.raw.prepare(sql).all(...params) as R[]);
  }

  get<R extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<R | undefined> {
    return Promise.resolve(this.raw.prepare(sql).get(...params) as R | undefined);
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.#txDepth > 0) return fn(this); // nested: part of the enclosing transaction
    const run = async () => {
      this.#txDepth++;
      this.raw.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(this);
        this.raw.exec("COMMIT");
        return result;
      } catch (e) {
        this.raw.exec("ROLLBACK");
        throw e;
      } finally {
        this.#txDepth--;
      }
    };
    const p = this.#txQueue.then(run, run);
    this.#txQueue = p.catch(() => {});
    return p;
  }

  close(): Promise<void> {
    if (this.raw.isOpen) this.raw.close();
    return Promise.resolve();
  }
}
