/**
 * classchat: the one entry point.
 *   classchat serve [--host H] [--port P] [--data DIR]
 *   classchat connect <name> [--host H] [--port P] [--password-file F] [--trust FP] [--no-tls]
 *   classchat admin reset-password <name> [--data DIR]
 *   classchat admin add-admin <name> [--data DIR] [--password-file F]
 *   classchat admin remove-admin <name> [--data DIR]
 *   classchat admin add-staff <name> | remove-staff <name> | list-staff [--data DIR]
 *     (operator commands plugins add: Plugin.operator)
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
  withoutEnvColors(program);
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

/**
 * Commander decides on colour by reading the environment: CLICOLOR_FORCE (and NO_COLOR,
 * FORCE_COLOR) itself, then, on a terminal, node's hasColors() reads NODE_DISABLE_COLORS, TERM,
 * TMUX, TF_BUILD, CI, TEAMCITY_VERSION, TERM_PROGRAM, COLORTERM. Under the tasks' narrow
 * --allow-env each read is a failure ("Requires env access"), or a permission prompt on a
 * terminal, so even `--help` broke. Listing those names would break again whenever commander
 * reads another, so every command (subcommands added with addCommand do not inherit output
 * settings) asks Deno instead, which reads NO_COLOR itself without any permission. Our help
 * has no colours anyway: this only decides whether commander strips them.
 */
function withoutEnvColors(cmd: Command) {
  cmd.configureOutput({
    getOutHasColors: () => Deno.stdout.isTerminal() && !Deno.noColor,
    getErrHasColors: () => Deno.stderr.isTerminal() && !Deno.noColor,
  });
  for (const sub of cmd.commands) withoutEnvColors(sub);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
