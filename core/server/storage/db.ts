/**
 * The storage port: a small async interface with `?` placeholders. The default adapter is
 * SQLite (node:sqlite, built into Deno); another database can sit behind the same port later.
 * Plugins own their tables (prefixed with the plugin name) and their migrations.
 */
export type SqlValue = string | number | bigint | null | Uint8Array;
export type Row = Record<string, SqlValue>;

export interface Db {
  /** Several nodes may use this store (PostgreSQL): what every node must read belongs in it,
   *  not in one node's files. */
  readonly sharedByNodes: boolean;
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number; lastId: number }>;
  all<R extends Row = Row>(sql: string, params?: SqlValue[]): Promise<R[]>;
  get<R extends Row = Row>(sql: string, params?: SqlValue[]): Promise<R | undefined>;
  /** Inside a transaction: holds the store-wide lock `key` until the transaction ends, so
   *  that nodes sharing a PostgreSQL store take turns (the message log's order, an account's
   *  one session). Nothing for SQLite, whose one connection is the only writer. */
  lock(key: string): Promise<void>;
  /** Runs fn in one transaction: committed if it resolves, rolled back if it throws. */
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** One schema step. Shipped migrations are never edited or reordered: add a new one. */
export interface Migration {
  sql: string;
}
