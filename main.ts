/**
 * classchat: the one entry point.
 *   classchat serve [--host H] [--port P] [--data DIR]
 *   classchat connect <name> [--host H] [--port P] [--password-file F] [--trust FP] [--no-tls]
 *   classchat admin reset-password <name> [--data DIR]
 *   classchat admin add-admin <name> [--data DIR] [--password-file F]
 *   classchat admin remove-admin <name> [--data DIR]
 * Exit codes: 0 ok, 1 runtime failure, 2 usage error.
 */
import { Command, CommanderError } from "commander";
import { adminCommand } from "./commands/admin.ts";
import { connectCommand } from "./commands/connect.ts";
import { serveCommand } from "./commands/serve.ts";
import {
  describeError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
} from "./commands/options.ts";
import { VERSION } from "./core/version.ts";

export async function main(args: string[]): Promise<number> {
  let code: number | undefined;
  const done = (c: number) => (code = c);
  const program = new Command("classchat")
    .description("ClassChat: a chat system a course runs itself")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .addCommand(serveCommand(done).exitOverride())
    .addCommand(connectCommand(done).exitOverride())
    .addCommand(adminCommand(done).exitOverride());
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version end with exitCode 0; everything commander rejects is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    console.error(`classchat: error: ${describeError(e)}`);
    return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (code === undefined && args.length === 0) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  return code ?? EXIT_OK;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
