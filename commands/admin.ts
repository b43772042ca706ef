/**
 * `classchat admin ...`: operator tasks run on the server's machine, against its data
 * directory (the store is SQLite in WAL mode, so this works while the server runs).
 *
 *   classchat admin reset-password <name> [--data DIR]
 */
import { Command } from "commander";
import { ACCOUNT_MIGRATIONS, Accounts, ACCOUNTS_OWNER } from "../core/accounts/accounts.ts";
import { DEFAULT_SCRYPT } from "../core/accounts/password.ts";
import { migrate } from "../core/storage/migrate.ts";
import { openSqlite } from "../core/storage/sqlite.ts";
import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import { EXIT_FAILURE, EXIT_OK } from "./options.ts";

export function adminCommand(done: (code: number) => void): Command {
  const admin = new Command("admin").description("operator tasks on a server's data directory");
  admin.addCommand(
    new Command("reset-password")
      .description(
        "give <name> a new random password (printed once) and end its saved sessions",
      )
      .exitOverride()
      .argument("<name>", "the account")
      .option("--data <dir>", "the server's data directory", "./classchat-data")
      .action(async (name: string, o: { data: string }) => {
        const path = `${o.data}/classchat.db`;
        // Opening would create an empty store; a wrong --data should say so instead.
        if (!(await Deno.stat(path).catch(() => undefined))) {
          throw new Error(`no ClassChat store at ${path}: check --data`);
        }
        const db = openSqlite(path);
        try {
          await migrate(db, ACCOUNTS_OWNER, ACCOUNT_MIGRATIONS);
          const accounts = new Accounts(db, DEFAULT_SCRYPT, DEFAULT_LIMITS);
          const password = await accounts.resetPassword(name);
          if (password === undefined) {
            console.error(`classchat: error: no account named "${name}"`);
            return done(EXIT_FAILURE);
          }
          console.log(`new password for ${name}: ${password}`);
          console.log("give it to them privately; they can change it with /passwd");
        } finally {
          await db.close();
        }
        done(EXIT_OK);
      }),
  );
  return admin;
}
