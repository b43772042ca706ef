/**
 * Where a server's store is: SQLite in its data directory (the default: nothing to install),
 * or PostgreSQL (`--store postgres://user@host/db?schema=s`, or CLASSCHAT_STORE), for several
 * nodes on one database. The data directory still holds what is not in the store: the TLS
 * key and certificate, and files kept for people away.
 */
import type { Db } from "./db.ts";
import { openSqlite } from "./sqlite.ts";
import { openPostgres, parseStoreUrl } from "./postgres.ts";

export interface StoreLocation {
  dataDir: string;
  /** A postgres:// URL; undefined: SQLite in dataDir. */
  store?: string;
}

/** The store, created if missing. */
export async function openStore(at: StoreLocation): Promise<Db> {
  if (at.store) return await openPostgres(at.store);
  await Deno.mkdir(at.dataDir, { recursive: true });
  return openSqlite(`${at.dataDir}/classchat.db`);
}

/** Whether the store has been written by a server before (an operator's command on an empty
 *  one would hide a wrong --data or --store). */
export async function storeExists(at: StoreLocation): Promise<boolean> {
  if (!at.store) return (await Deno.stat(`${at.dataDir}/classchat.db`).catch(() => null)) !== null;
  const db = await openPostgres(at.store);
  try {
    const row = await db.get<{ n: number }>(
      "SELECT count(*) AS n FROM information_schema.tables" +
        " WHERE table_schema = current_schema() AND table_name = 'core_migrations'",
    );
    return (row?.n ?? 0) > 0;
  } finally {
    await db.close();
  }
}

/** The store as a person reads it in logs and errors: no password. */
export function describeStore(at: StoreLocation): string {
  if (!at.store) return `${at.dataDir}/classchat.db`;
  const { url, schema } = parseStoreUrl(at.store);
  const u = new URL(url);
  u.password = "";
  return `${u.protocol}//${u.username ? u.username + "@" : ""}${u.host}${u.pathname}` +
    ` (schema ${schema})`;
}
