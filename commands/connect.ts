/** `classchat connect <name>`: the interactive client, or a line-per-event client in a pipe. */
import { Command } from "commander";
import { ClientApp, type EndReason } from "../core/client_app.ts";
import { pipeUi, stdinLines, terminal } from "../core/terminal.ts";
import { PLUGINS } from "../plugins/mod.ts";
import { DEFAULT_HOST, DEFAULT_PORT, EXIT_FAILURE, EXIT_OK, portOption } from "./options.ts";

export function connectCommand(done: (code: number) => void): Command {
  return new Command("connect")
    .description("join a ClassChat server as <name>")
    .argument("<name>", "your user name")
    .option("--host <host>", "server address", DEFAULT_HOST)
    .option("-p, --port <port>", "server port", portOption, DEFAULT_PORT)
    .action(async (name: string, o) => {
      const base = { name, hostname: o.host, port: o.port, plugins: PLUGINS };
      done(Deno.stdin.isTerminal() ? await interactive(base) : await scripted(base));
    });
}

type Base = { name: string; hostname: string; port: number; plugins: typeof PLUGINS };

async function interactive(base: Base): Promise<number> {
  const tty = terminal();
  const app = new ClientApp({
    ...base,
    ui: tty.ui,
    // The problem was just shown as an error line; ask only for the new name.
    askName: async () => (await tty.ask("name> "))?.trim() || undefined,
  });
  try {
    if (!(await app.start())) return EXIT_FAILURE;
  } catch (e) {
    tty.close();
    throw e;
  }
  tty.start((line) => app.input(line), () => app.quit());
  const reason = await app.ended;
  tty.close();
  return exitCode(reason);
}

/** Reads commands line by line; after stdin ends, waits for its own acks, then quits. */
async function scripted(base: Base): Promise<number> {
  const app = new ClientApp({ ...base, ui: pipeUi() });
  if (!(await app.start())) return EXIT_FAILURE;
  (async () => {
    for await (const line of stdinLines()) app.input(line);
    await app.endOfInput();
  })();
  return exitCode(await app.ended);
}

function exitCode(reason: EndReason): number {
  return reason === "lost" ? EXIT_FAILURE : EXIT_OK;
}
