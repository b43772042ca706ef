/**
 * `classchat admin ...`: operator tasks run on the server's machine, against its data
 * directory (the store is SQLite in WAL mode, so this works while the server runs; the server
 * notices a change to an account at that account's next login).
 *
 *   classchat admin reset-password <name> [--data DIR]
 *   classchat admin add-admin <name> [--data DIR] [--password-file F]
 *   classchat admin remove-admin <name> [--data DIR]
 *   classchat admin <plugin command> ...   what plugins add (Plugin.operator), e.g. add-staff
 *
 * Admin rights are given here, on the server's machine, to an account: never to a name, which
 * would belong to whoever registered it first.
 */
import { Command } from "commander";
import type { Accounts } from "../core/server/accounts/accounts.ts";
import { runOperatorCommand, withAccountStore } from "../core/server/accounts/store.ts";
import { PLUGINS } from "../plugins/mod.ts";
import type { OperatorCommand, Plugin } from "../plugins/types.ts";
import { passwordProblem } from "../core/server/accounts/password.ts";
import { checkName } from "../core/server/core_frames.ts";
import { makeUi, terminal } from "../core/client/terminal.ts";
import { ChatError } from "../protocol/errors.ts";
import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import { EXIT_FAILURE, EXIT_OK, STORE_OPTION, storeLocation, UsageError } from "./options.ts";
import { describeStore } from "../core/server/storage/open.ts";
import { passwordSource } from "./password.ts";

const DATA = ["--data <dir>", "the server's data directory", "./classchat-data"] as const;
type Where = { data: string; store?: string };

export function adminCommand(done: (code: number) => void, plugins = PLUGINS): Command {
  const admin = new Command("admin").description("operator tasks on a server's data directory");
  /** Prints a failure the way main() does and ends with exit 1. */
  const fail = (message: string) => {
    console.error(`classchat: error: ${message}`);
    done(EXIT_FAILURE);
  };

  admin.addCommand(
    new Command("reset-password")
      .description(
        "give <name> a new random password (printed once), end its saved sessions and lift " +
          "its login locks",
      )
      .exitOverride()
      .argument("<name>", "the account")
      .option(...DATA)
      .option(...STORE_OPTION)
      .action((name: string, o: Where) =>
        existingStore(o, async (accounts) => {
          const password = await accounts.resetPassword(name);
          if (password === undefined) return fail(`no account named "${name}"`);
          console.log(`new password for ${name}: ${password}`);
          console.log("give it to them privately; they can change it with /passwd");
          done(EXIT_OK);
        })
      ),
  );

  admin.addCommand(
    new Command("add-admin")
      .description(
        "make <name> a server admin, creating the account (asking for its password) if it " +
          "does not exist yet",
      )
      .exitOverride()
      .argument("<name>", "the account")
      .option(...DATA)
      .option(...STORE_OPTION)
      .option("--password-file <file>", "read a new account's password from this file")
      .action((name: string, o: Where & { passwordFile?: string }) => {
        try {
          checkName(name, DEFAULT_LIMITS.maxNameLength);
        } catch (e) {
          throw new UsageError(e instanceof ChatError ? e.message : String(e));
        }
        return withAccountStore(storeLocation(o), true, async (accounts) => {
          const existing = await accounts!.setAdmin(name, true);
          if (existing) {
            const when = new Date(existing.createdAt).toISOString().slice(0, 16).replace("T", " ");
            console.log(
              `made the existing account ${existing.name} (created ${when} UTC) a server admin`,
            );
            console.log("a running server applies it at that account's next login");
            return done(EXIT_OK);
          }
          const password = await newPassword(name, o.passwordFile);
          if (password === undefined) return fail(`${name} was not created`);
          if (!(await accounts!.create(name, password, true))) {
            return fail(`someone just created "${name}" through the server; run this again`);
          }
          console.log(`created the account ${name} and made it a server admin`);
          done(EXIT_OK);
        });
      }),
  );

  admin.addCommand(
    new Command("remove-admin")
      .description("make <name> an ordinary account again")
      .exitOverride()
      .argument("<name>", "the account")
      .option(...DATA)
      .option(...STORE_OPTION)
      .action((name: string, o: Where) =>
        existingStore(o, async (accounts) => {
          const account = await accounts.setAdmin(name, false);
          if (!account) return fail(`no account named "${name}"`);
          console.log(`${account.name} is no longer a server admin`);
          console.log(
            "a running server applies it at that account's next login; `serve --admin " +
              `${account.name}\` would still make it one`,
          );
          done(EXIT_OK);
        })
      ),
  );
  // A plugin's command may not take a name already taken: a start-up error, named.
  const taken = new Map(admin.commands.map((c) => [c.name(), "the core"]));
  for (const plugin of plugins) {
    for (const op of plugin.operator ?? []) {
      const owner = taken.get(op.name);
      if (owner) {
        throw new Error(
          `admin command "${op.name}" of plugin ${plugin.name} clashes with ${owner}'s`,
        );
      }
      taken.set(op.name, `plugin ${plugin.name}`);
      admin.addCommand(operatorCommand(plugin, op, fail, done));
    }
  }
  return admin;
}

/** A plugin's operator command (Plugin.operator) as `classchat admin <name> [<arg>]`. */
function operatorCommand(
  plugin: Plugin,
  op: OperatorCommand,
  fail: (message: string) => void,
  done: (code: number) => void,
): Command {
  const cmd = new Command(op.name).description(op.summary).exitOverride();
  if (op.argument) cmd.argument(`<${op.argument}>`);
  return cmd.option(...DATA).option(...STORE_OPTION).action(async (...args: unknown[]) => {
    const arg = op.argument ? args[0] as string : undefined;
    const o = args[op.argument ? 1 : 0] as Where;
    let lines: string[];
    try {
      lines = await runOperatorCommand(storeLocation(o), plugin, op, arg);
    } catch (e) {
      return fail(e instanceof Error ? e.message : String(e));
    }
    for (const line of lines) console.log(line);
    done(EXIT_OK);
  });
}

/** The store must exist already: opening would create an empty one, hiding a wrong --data. */
function existingStore(o: Where, fn: (accounts: Accounts) => Promise<unknown>) {
  const at = storeLocation(o);
  return withAccountStore(at, false, async (accounts) => {
    if (!accounts) {
      throw new Error(`no ClassChat store at ${describeStore(at)}: check --data or --store`);
    }
    await fn(accounts);
  });
}

/** A new account's password, by the client's rules (commands/password.ts): --password-file,
 *  CLASSCHAT_PASSWORD, or asked twice without echo in a terminal; asked again while too
 *  short. Undefined if there is none (the reason was shown). */
async function newPassword(name: string, file: string | undefined) {
  const ui = makeUi((line) => console.log(line), false);
  ui.error = (_code, message) => console.error(`classchat: error: ${message}`);
  const tty = file === undefined && Deno.stdin.isTerminal() ? terminal("") : undefined;
  try {
    const ask = passwordSource(file, ui, tty);
    let problem: string | undefined;
    while (true) {
      const password = await ask({ name, isNew: true, problem });
      if (password === undefined) return undefined;
      problem = passwordProblem(password);
      if (!problem) return password;
      ui.error("WEAK_PASSWORD", problem);
    }
  } finally {
    tty?.close();
  }
}
