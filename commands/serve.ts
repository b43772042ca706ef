/** `classchat serve`: starts the server and runs until SIGINT or SIGTERM. */
import { Command, Option } from "commander";
import { ChatServer } from "../core/server/server.ts";
import { LIMITS, type Limits } from "../protocol/limits.ts";
import { PLUGINS } from "../plugins/mod.ts";
import type { Plugin } from "../plugins/types.ts";
import type { LogLevel } from "../core/log.ts";
import {
  DEFAULT_SCRYPT,
  MAX_SCRYPT_LOG_N,
  MIN_SCRYPT_LOG_N,
} from "../core/server/accounts/password.ts";
import { missingAccounts } from "../core/server/accounts/store.ts";
import { describeStore, type StoreLocation } from "../core/server/storage/open.ts";
import { describeBus } from "../core/server/bus.ts";
import { serverTls } from "./serve_tls.ts";
import { webAssets } from "../web/files.ts";
import { serverNames } from "../core/tls/cert.ts";
import {
  addPluginOptions,
  busUrl,
  collect,
  DEFAULT_HOST,
  DEFAULT_PORT,
  EXIT_FAILURE,
  EXIT_OK,
  intOption,
  pluginOptionValues,
  portOption,
  settingOption,
  STORE_OPTION,
  storeLocation,
  UsageError,
} from "./options.ts";

export function serveCommand(done: (code: number) => void): Command {
  const cmd = new Command("serve")
    .description("start a ClassChat server")
    .option("--host <host>", "address to listen on (0.0.0.0 for every interface)", DEFAULT_HOST)
    .option("-p, --port <port>", "TCP port (0 picks a free one)", portOption, DEFAULT_PORT)
    .option(
      "--web-port <port>",
      "port of the web client (HTTPS and WebSocket; 0 picks a free one)",
      portOption,
      DEFAULT_PORT + 1,
    )
    .option("--no-web", "do not serve the web client")
    .option(
      "--data <dir>",
      "directory for the server's store, certificate and kept files",
      "./classchat-data",
    )
    .option(...STORE_OPTION)
    .option(
      "--bus <url>",
      "NATS bus (nats://host:4222) joining this node to a cluster on one --store " +
        "(default: $CLASSCHAT_BUS)",
    )
    .option("--node-id <id>", "this node's name in a cluster (default: host name and port)")
    .option("--name <name>", "server name shown to clients", "ClassChat");
  // Every core limit, from its declaration (protocol/limits.ts), in the table's order.
  for (const s of Object.values(LIMITS)) cmd.addOption(settingOption(s));
  cmd
    .option(
      "--scrypt-cost <log2N>",
      "password hashing cost (scrypt N = 2^cost, r=8, p=1); lower only for tests and load runs",
      intOption(MIN_SCRYPT_LOG_N, MAX_SCRYPT_LOG_N),
      DEFAULT_SCRYPT.logN,
    )
    .option("--tls-cert <file>", "PEM certificate chain to use instead of the generated one")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option(
      "--tls-name <name>",
      "extra host name or address for the generated certificate (repeatable)",
      collect,
      [] as string[],
    )
    .option("--no-tls", "serve unencrypted TCP (lab demonstrations only: anyone can read it)")
    .option(
      "--admin <name>",
      "make this existing account a server admin, e.g. the instructor (repeatable; " +
        "`classchat admin add-admin` creates one and marks it for good)",
      collect,
      [] as string[],
    )
    .option(
      "--disable <plugin>",
      `switch a plugin off (repeatable; plugins: ${PLUGINS.map((p) => p.name).join(", ")})`,
      collect,
      [] as string[],
    )
    .addOption(
      new Option("--log-level <level>", "what the server logs to stderr")
        .choices(["debug", "info", "warn", "error", "silent"])
        .default("info"),
    )
    .action(async (o) => {
      const at = storeLocation(o);
      const bus = busUrl(o, at.store);
      await checkAdmins(at, o.admin);
      const plugins = enabledPlugins(o.disable);
      const pluginOptions = pluginOptionValues(cmd, plugins, "serve");
      const tls = await serverTls(o);
      const server = await ChatServer.start({
        admins: o.admin,
        pluginOptions,
        tls,
        scrypt: { ...DEFAULT_SCRYPT, logN: o.scryptCost },
        plugins,
        hostname: o.host,
        port: o.port,
        dataDir: o.data,
        store: at.store,
        bus,
        nodeId: o.nodeId,
        serverName: o.name,
        logLevel: o.logLevel as LogLevel,
        limits: limitValues(o),
        web: o.web
          ? { port: o.webPort, assets: webAssets(), names: serverNames(o.host, o.tlsName) }
          : undefined,
      });
      const { hostname, port } = server.addr;
      // Scripts and tests read this line to learn the port (with --port 0).
      console.log(
        `classchat: listening on ${hostname}:${port} (data: ${o.data}; ${
          at.store ? `store: ${describeStore(at)}; ` : ""
        }${bus ? `bus: ${describeBus(bus)}, node ${server.bus.node}; ` : ""}plugins: ${
          server.pluginNames.join(", ")
        })`,
      );
      const web = server.webAddr;
      if (web) {
        // With the fingerprint above: what a student checks when the browser warns.
        const host = o.host === "0.0.0.0" || o.host === "::"
          ? "<this computer's address>"
          : web.hostname;
        console.log(`classchat: web client at ${tls ? "https" : "http"}://${host}:${web.port}/`);
      }
      await new Promise<void>((resolve) => {
        let signalled = false;
        const stop = () => {
          // A second signal while shutting down means "now": exit without waiting.
          if (signalled) Deno.exit(EXIT_FAILURE);
          signalled = true;
          resolve();
        };
        Deno.addSignalListener("SIGINT", stop);
        Deno.addSignalListener("SIGTERM", stop);
      });
      console.log("classchat: shutting down");
      await server.close();
      done(EXIT_OK);
    });
  // Plugins' own options (e.g. groups' --class-room), listed in --help with the rest.
  addPluginOptions(cmd, "serve");
  return cmd;
}

/** The limits as parsed (each option's value is already in the Limits unit). */
function limitValues(o: Record<string, unknown>): Limits {
  const entries = Object.keys(LIMITS).map((k) => {
    const s = LIMITS[k as keyof Limits];
    return [k, o[new Option(s.flag).attributeName()] as number];
  });
  return Object.fromEntries(entries) as Limits;
}

/** --admin must name accounts that exist before the server listens: a name alone would make
 *  an admin of whoever registers it first, a student who got there before the instructor. */
async function checkAdmins(at: StoreLocation, names: string[]) {
  if (names.length === 0) return;
  const missing = await missingAccounts(at, names);
  if (missing.length === 0) return;
  const name = missing[0];
  throw new UsageError(
    `--admin ${name}: there is no account "${name}" in ${
      describeStore(at)
    } yet, and the first person ` +
      `to register the name would become an admin. Create it on this machine first with ` +
      `\`classchat admin add-admin ${name}\` (or \`deno task admin add-admin ${name}\`), ` +
      `which asks for its password and marks it admin for good.`,
  );
}

/** The plugin list without the disabled ones; an unknown name is a usage error. */
function enabledPlugins(disabled: string[]): Plugin[] {
  for (const name of disabled) {
    if (!PLUGINS.some((p) => p.name === name)) {
      throw new UsageError(`--disable: no plugin named "${name}"`);
    }
  }
  return PLUGINS.filter((p) => !disabled.includes(p.name));
}
