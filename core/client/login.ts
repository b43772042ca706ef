/**
 * The client side of accounts: logging in (with a resume token if this process has one, else
 * a password, asked twice for a new account) and /passwd. Where the password comes from is
 * the caller's business (commands/connect.ts): a prompt without echo, CLASSCHAT_PASSWORD or
 * --password-file, never a command-line argument.
 */
import { SessionAccount, SessionLogin, SessionPasswd, SessionResume } from "../../protocol/core.ts";
import { ChatError } from "../../protocol/errors.ts";
import type { CommandDef, Ui } from "../../plugins/types.ts";
import type { ClientConnection } from "./connection.ts";

export interface Credentials {
  /** The password for `name`; `isNew` when the account does not exist yet (ask twice), and
   *  `problem` when the last one was refused. Undefined gives up; "" (never a password) for an
   *  existing account means "not mine: let me choose another name" (see askName). */
  password(q: { name: string; isNew: boolean; problem?: string }): Promise<string | undefined>;
  /** Asks the person for another name after BAD_NAME or NAME_IN_USE; absent when scripted. */
  askName?: (problem: string) => Promise<string | undefined>;
  /** Asks a secret question without echo (for /passwd); absent when not in a terminal. */
  askSecret?: (question: string) => Promise<string | undefined>;
}

/** Errors after which asking again may help. */
const RETRY_NAME = new Set(["NAME_IN_USE", "BAD_NAME"]);
const RETRY_PASSWORD = new Set(["BAD_PASSWORD", "WEAK_PASSWORD"]);

/** Logs in as `name`; returns the account name and resume token, or undefined if it gave up
 *  (the reason was shown). A token from an earlier login in this process is tried first. */
export async function logIn(
  conn: ClientConnection,
  ui: Ui,
  creds: Credentials,
  name: string,
  token?: string,
): Promise<{ name: string; token: string } | undefined> {
  if (token) {
    try {
      const ack = await conn.request(SessionResume, { name, token, binary: conn.welcome.binary });
      return { name: ack.name, token };
    } catch (e) {
      if (!(e instanceof ChatError) || e.code !== "BAD_TOKEN") throw e;
    }
  }
  let problem: string | undefined;
  while (true) {
    try {
      const { exists } = await conn.request(SessionAccount, { name });
      const password = await creds.password({ name, isNew: !exists, problem });
      if (password === undefined) return undefined;
      if (password === "" && exists && creds.askName) {
        problem = undefined;
        const next = await creds.askName(`${name} belongs to someone else`);
        if (!next) return undefined;
        name = next;
        continue;
      }
      const ack = await conn.request(SessionLogin, { name, password, binary: conn.welcome.binary });
      if (ack.created) {
        ui.notice(`created the account ${ack.name}: from now on it needs this password`);
      }
      return { name: ack.name, token: ack.token };
    } catch (e) {
      if (!(e instanceof ChatError)) throw e;
      ui.error(e.code, e.message);
      if (RETRY_PASSWORD.has(e.code)) {
        problem = e.message;
        continue;
      }
      problem = undefined;
      const next = RETRY_NAME.has(e.code) && creds.askName ? await creds.askName(e.message) : "";
      if (!next) return undefined;
      name = next;
    }
  }
}

/** /passwd: asks for the current and the new password (twice), without echo. */
export function passwdCommand(
  creds: Credentials,
  conn: () => ClientConnection,
  newToken: (t: string) => void,
): CommandDef {
  return {
    name: "passwd",
    aliases: ["password"],
    usage: "/passwd",
    summary: "change your password (asks without echo)",
    async run(_input, ctx) {
      const ask = creds.askSecret;
      if (!ask) {
        return ctx.ui.error("USAGE", "/passwd needs a terminal; or ask the instructor to reset it");
      }
      const cancelled = () => ctx.ui.notice("/passwd cancelled; nothing changed");
      const old = await ask("current password: ");
      if (!old) return cancelled();
      const next = await ask("new password: ");
      if (!next) return cancelled();
      if ((await ask("new password again: ")) !== next) {
        return ctx.ui.error("USAGE", "the two new passwords differ; nothing changed");
      }
      const ack = await conn().request(SessionPasswd, { old, password: next });
      newToken(ack.token);
      ctx.ui.notice("password changed; other devices must log in again");
    },
  };
}
