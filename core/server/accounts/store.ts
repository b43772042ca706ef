/**
 * The accounts of a server's data directory, for the operator's commands that run beside
 * the server on its machine (`classchat admin ...`, and serve's check of --admin before it
 * listens). The store is SQLite in WAL mode, so this works while the server runs; what the
 * server keeps in memory it re-reads from an account's row (its admin mark, its password's
 * updated_at) at that account's next login.
 */
import { DEFAULT_LIMITS } from "../../../protocol/limits.ts";
import type { Db } from "../storage/db.ts";
import { migrate } from "../storage/migrate.ts";
import { describeStore, openStore, storeExists, type StoreLocation } from "../storage/open.ts";
import { ACCOUNT_MIGRATIONS, Accounts, ACCOUNTS_OWNER } from "./accounts.ts";
import { DEFAULT_SCRYPT } from "./password.ts";
import type { OperatorCommand, Plugin } from "../../../plugins/types.ts";

/** Runs fn on the accounts of a server's store. Without `create`, a missing store is not
 *  made (an empty one would hide a wrong --data or --store): fn gets undefined instead. */
export async function withAccountStore<T>(
  at: StoreLocation,
  create: boolean,
  fn: (accounts: Accounts | undefined, db?: Db) => Promise<T>,
): Promise<T> {
  if (!create && !(await storeExists(at))) return fn(undefined);
  const db = await openStore(at);
  try {
    await migrate(db, ACCOUNTS_OWNER, ACCOUNT_MIGRATIONS);
    return await fn(new Accounts(db, DEFAULT_SCRYPT, DEFAULT_LIMITS), db);
  } finally {
    await db.close();
  }
}

/** Runs a plugin's operator command (Plugin.operator) on a server's store, which must exist,
 *  with the plugin's migrations applied first. */
export function runOperatorCommand(
  at: StoreLocation,
  plugin: Plugin,
  command: OperatorCommand,
  arg: string | undefined,
): Promise<string[]> {
  return withAccountStore(at, false, async (accounts, db) => {
    if (!accounts || !db) {
      throw new Error(`no ClassChat store at ${describeStore(at)}: check --data or --store`);
    }
    await migrate(db, plugin.name, plugin.migrations ?? []);
    return command.run({ db, account: (name) => accounts.registeredName(name) }, arg);
  });
}

/** The names among `names` that have no account in `dataDir`'s store (all, if it has none). */
export function missingAccounts(at: StoreLocation, names: string[]): Promise<string[]> {
  return withAccountStore(at, false, async (accounts) => {
    const missing = [];
    for (const name of names) if (!(await accounts?.exists(name))) missing.push(name);
    return missing;
  });
}
