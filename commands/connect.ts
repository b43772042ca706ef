/** `classchat connect <name>`: the interactive client, or a line-per-event client in a pipe. */
import { Command } from "commander";
import { ClientApp, type EndReason } from "../core/client/app.ts";
import type { Credentials } from "../core/client/login.ts";
import { pipeUi, stdinLines, terminal, type Tty } from "../core/client/terminal.ts";
import { connectTrusted } from "../core/client/tls.ts";
import { hostKey, knownHostsPath } from "../core/client/known_hosts.ts";
import { PLUGINS } from "../plugins/mod.ts";
import type { Ui } from "../plugins/types.ts";
import { passwordSource } from "./password.ts";
import {
  addPluginOptions,
  DEFAULT_HOST,
  DEFAULT_PORT,
  EXIT_FAILURE,
  EXIT_OK,
  pluginOptionValues,
  portOption,
} from "./options.ts";

interface ConnectOptions {
  host: string;
  port: number;
  tls: boolean;
  trust?: string;
  passwordFile?: string;
  reconnect: boolean;
  /** Plugins' connect options as given (see pluginOptionValues). */
  given?: Record<string, string[]>;
}

export function connectCommand(done: (code: number) => void): Command {
  const cmd = new Command("connect")
    .description("join a ClassChat server as <name>")
    .argument("<name>", "your user name")
    .option("--host <host>", "server address", DEFAULT_HOST)
    .option("-p, --port <port>", "server port", portOption, DEFAULT_PORT)
    .option(
      "--password-file <path>",
      "read the password from this file's first line (else CLASSCHAT_PASSWORD, else a prompt)",
    )
    .option(
      "--trust <fingerprint>",
      "trust a new server whose certificate has this SHA-256 fingerprint, without asking",
    )
    .option("--no-tls", "connect without encryption (lab demonstrations only)")
    .option("--no-reconnect", "end when the connection drops instead of reconnecting")
    .action(async (name: string, opts: ConnectOptions) => {
      const o = { ...opts, given: pluginOptionValues(cmd, PLUGINS, "connect") };
      done(Deno.stdin.isTerminal() ? await interactive(name, o) : await scripted(name, o));
    });
  // Plugins' own options (e.g. sendfile's --downloads), listed in --help with the rest.
  addPluginOptions(cmd, "connect");
  return cmd;
}

async function interactive(name: string, o: ConnectOptions): Promise<number> {
  const tty = terminal();
  const creds: Credentials = {
    password: passwordSource(o.passwordFile, tty.ui, tty),
    // The problem was just shown as an error line; ask only for the new name.
    askName: async () => (await tty.ask("name> "))?.trim() || undefined,
    askSecret: (q) => tty.askSecret(q),
  };
  const app = new ClientApp(options(name, o, tty.ui, creds, tty));
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
async function scripted(name: string, o: ConnectOptions): Promise<number> {
  const ui = pipeUi();
  const app = new ClientApp(options(name, o, ui, { password: passwordSource(o.passwordFile, ui) }));
  if (!(await app.start())) return EXIT_FAILURE;
  (async () => {
    for await (const line of stdinLines()) app.input(line);
    await app.endOfInput();
  })();
  return exitCode(await app.ended);
}

function options(name: string, o: ConnectOptions, ui: Ui, creds: Credentials, tty?: Tty) {
  const { host: hostname, port } = o;
  return {
    name,
    server: hostKey(hostname, port),
    plugins: PLUGINS,
    ui,
    creds,
    reconnect: o.reconnect,
    pluginOptions: o.given,
    async dial(): Promise<Deno.Conn> {
      if (!o.tls) {
        ui.error(
          "NO_TLS",
          "WARNING: --no-tls: your password and messages cross the network unencrypted",
        );
        return await Deno.connect({ hostname, port });
      }
      const { conn } = await connectTrusted({
        hostname,
        port,
        knownHostsPath: knownHostsPath(),
        trust: o.trust,
        notice: (text) => ui.notice(text),
        ask: tty && (async ({ hostKey, fingerprint }) => {
          ui.notice(`The server ${hostKey} is new to this computer. Its key's fingerprint is`);
          ui.notice(`  SHA256 ${fingerprint}`);
          ui.notice("Compare it with the one `classchat serve` printed (ask your instructor).");
          const answer = await tty.ask("Trust this server and remember it? (yes/no) ");
          return /^y(es)?$/i.test(answer?.trim() ?? "");
        }),
      });
      return conn;
    },
  };
}

function exitCode(reason: EndReason): number {
  return reason === "lost" ? EXIT_FAILURE : EXIT_OK;
}
