/**
 * Where the client's password comes from, in this order: --password-file (first line),
 * CLASSCHAT_PASSWORD, a prompt without echo in a terminal. Never a command-line argument:
 * those are visible to every user of the machine in `ps`.
 */
import type { Credentials } from "../core/client/login.ts";
import type { Tty } from "../core/client/terminal.ts";
import type { Ui } from "../plugins/types.ts";

export function passwordSource(
  file: string | undefined,
  ui: Ui,
  tty?: Tty,
): Credentials["password"] {
  return async ({ name, isNew, problem }) => {
    if (file !== undefined) {
      // A refused password from a file stays refused: asking again would read the same line.
      if (problem) return undefined;
      const text = await Deno.readTextFile(file).catch((e) => {
        throw new Error(`cannot read the password file ${file}: ${e.message}`);
      });
      return text.split(/\r?\n/)[0];
    }
    const env = Deno.env.get("CLASSCHAT_PASSWORD");
    if (env !== undefined) return problem ? undefined : env;
    if (!tty) {
      ui.error(
        "NO_PASSWORD",
        "set CLASSCHAT_PASSWORD or use --password-file when not in a terminal",
      );
      return undefined;
    }
    if (!isNew) {
      // Said before the question: a name someone else holds must not read like a login, or a
      // student guessing at it locks its owner out.
      if (!problem) {
        ui.notice(
          `${name} is an existing account. If it is yours, type its password;` +
            " if not, press Enter to choose another name",
        );
      }
      return await tty.askSecret(`password for ${name}: `);
    }
    ui.notice(`${name} is a new account: choose its password (at least 8 characters)`);
    while (true) {
      const first = await tty.askSecret("new password: ");
      if (first === undefined) return undefined;
      const again = await tty.askSecret("same password again: ");
      if (again === undefined) return undefined;
      if (first === again) return first;
      ui.error("USAGE", "the two passwords differ; try again");
    }
  };
}
