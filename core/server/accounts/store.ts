/**
 * The accounts of a server's data directory, for the operator's commands that run beside
 * the server on its machine (`classchat admin ...`, and serve's check of --admin before it
 * listens). The store is SQLite in WAL mode, so this works while the server runs; what the
 * server keeps in memory it re-reads from an account's row (its admin mark, its password's
 * updated_at) at that account's next login.
 */
import { DEFAULT_LIMITS } from "../../../protocol/limits.ts";
import { migrate } from "../storage/migrate.ts";
import { openSqlite } from "../storage/sqlite.ts";
import { ACCOUNT_MIGRATIONS, Accounts, ACCOUNTS_OWNER } from "./accounts.ts";
import { DEFAULT_SCRYPT } from "./password.ts";

/** Runs fn on the accounts of `dataDir`'s store. Without `create`, a missing store is not
 *  made (an empty one would hide a wrong --data): fn gets undefined instead. */
export async function withAccountStore<T>(
  dataDir: string,
  create: boolean,
  fn: (accounts: Accounts | undefined) => Promise<T>,
): Promise<T> {
  const path = `${dataDir}/classchat.db`;
  if (!create && !(await Deno.stat(path).catch(() => undefined))) return fn(undefined);
  await Deno.mkdir(dataDir, { recursive: true });
  const db = openSqlite(path);
  try {
    await migrate(db, ACCOUNTS_OWNER, ACCOUNT_MIGRATIONS);
    return await fn(new Accounts(db, DEFAULT_SCRYPT, DEFAULT_LIMITS));
  } finally {
    await db.close();
  }
}

/** The names among `names` that have no account in `dataDir`'s store (all, if it has none). */
export function missingAccounts(dataDir: string, names: string[]): Promise<string[]> {
  return withAccountStore(dataDir, false, async (accounts) => {
    const missing = [];
    for (const name of names) if (!(await accounts?.exists(name))) missing.push(name);
    return missing;
  });
}
