/** `classchat serve`: starts the server and runs until SIGINT or SIGTERM. */
import { Command, Option } from "commander";
import { ChatServer } from "../core/server/server.ts";
import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import { PLUGINS } from "../plugins/mod.ts";
import type { Plugin } from "../plugins/types.ts";
import type { LogLevel } from "../core/log.ts";
import {
  DEFAULT_SCRYPT,
  MAX_SCRYPT_LOG_N,
  MIN_SCRYPT_LOG_N,
} from "../core/server/accounts/password.ts";
import { missingAccounts } from "../core/server/accounts/store.ts";
import { serverTls } from "./serve_tls.ts";
import {
  addPluginOptions,
  collect,
  DEFAULT_HOST,
  DEFAULT_PORT,
  EXIT_FAILURE,
  EXIT_OK,
  intOption,
  pluginOptionValues,
  portOption,
  UsageError,
} from "./options.ts";

const MIB = 1024 * 1024;

export function serveCommand(done: (code: number) => void): Command {
  const cmd = new Command("serve")
    .description("start a ClassChat server")
    .option("--host <host>", "address to listen on (0.0.0.0 for every interface)", DEFAULT_HOST)
    .option("-p, --port <port>", "TCP port (0 picks a free one)", portOption, DEFAULT_PORT)
    .option("--data <dir>", "directory for the server's store", "./classchat-data")
    .option("--name <name>", "server name shown to clients", "ClassChat")
    .option(
      "--max-frame-bytes <n>",
      "longest frame (line) in bytes",
      intOption(256, 16 * MIB),
      DEFAULT_LIMITS.maxFrameBytes,
    )
    .option(
      "--max-text-length <n>",
      "longest message text in characters",
      intOption(1, 1 * MIB),
      DEFAULT_LIMITS.maxTextLength,
    )
    .option(
      "--max-name-length <n>",
      "longest user name",
      intOption(1, 256),
      DEFAULT_LIMITS.maxNameLength,
    )
    .option(
      "--send-queue-bytes <n>",
      "outgoing bytes queued per client before it is disconnected",
      intOption(1024, 1024 * MIB),
      DEFAULT_LIMITS.sendQueueBytes,
    )
    .option(
      "--login-failures-per-account <n>",
      "wrong passwords for one account from one address within the login window before " +
        "that address is refused for that account (the owner elsewhere is not)",
      intOption(1, 1000),
      DEFAULT_LIMITS.loginFailuresPerAccount,
    )
    .option(
      "--login-failures-per-address <n>",
      "failed password logins per client address within the login window, past which it may " +
        "not sign up or log in to accounts never used from it (a class may share one NAT)",
      intOption(1, 100_000),
      DEFAULT_LIMITS.loginFailuresPerAddress,
    )
    .option(
      "--login-bad-tokens-per-address <n>",
      "wrong resume tokens per client address within the login window (a budget apart from " +
        "passwords, so they cannot use up a shared address's logins)",
      intOption(1, 1_000_000),
      DEFAULT_LIMITS.loginBadTokensPerAddress,
    )
    .option(
      "--login-window <seconds>",
      "the sliding window for the login-failure limits",
      intOption(1, 7 * 24 * 3600),
      DEFAULT_LIMITS.loginWindowMs / 1000,
    )
    .option(
      "--login-slowdown-after <n>",
      "wrong passwords for one account from all addresses within the login window after " +
        "which logins to it from addresses it never used wait their turn",
      intOption(1, 1_000_000),
      DEFAULT_LIMITS.loginSlowdownAfter,
    )
    .option(
      "--login-slowdown <ms>",
      "milliseconds between those turns (a delay, never a lock)",
      intOption(0, 60_000),
      DEFAULT_LIMITS.loginSlowdownMs,
    )
    .option(
      "--login-slowdown-max-wait <seconds>",
      "a login that would wait longer for its turn is refused with the time to wait",
      intOption(1, 3600),
      DEFAULT_LIMITS.loginSlowdownMaxWaitMs / 1000,
    )
    .option(
      "--max-connections <n>",
      "connections open at once, logged in or not",
      intOption(1, 1_000_000),
      DEFAULT_LIMITS.maxConnections,
    )
    .option(
      "--max-connections-per-address <n>",
      "connections open at once from one client address (a class may share one NAT)",
      intOption(1, 1_000_000),
      DEFAULT_LIMITS.maxConnectionsPerAddress,
    )
    .option(
      "--connections-per-address-per-minute <n>",
      "new connections a minute from one client address, after a burst of" +
        " --max-connections-per-address",
      intOption(1, 100_000_000),
      DEFAULT_LIMITS.connectionsPerAddressPerMinute,
    )
    .option(
      "--login-timeout <seconds>",
      "close a connection that has not logged in after this long",
      intOption(1, 3600),
      DEFAULT_LIMITS.loginTimeoutMs / 1000,
    )
    .option(
      "--handshake-timeout <seconds>",
      "close a TLS connection whose handshake has not finished after this long",
      intOption(1, 600),
      DEFAULT_LIMITS.handshakeTimeoutMs / 1000,
    )
    .option(
      "--frames-per-second <n>",
      "frames a connection may send per second after its burst (0: no limit, for load runs)",
      intOption(0, 1_000_000),
      DEFAULT_LIMITS.framesPerSecond,
    )
    .option(
      "--frame-burst <n>",
      "frames a connection may send at once before --frames-per-second applies",
      intOption(1, 1_000_000),
      DEFAULT_LIMITS.frameBurst,
    )
    .option(
      "--max-bad-frames <n>",
      "malformed or refused frames per connection per minute before it is closed",
      intOption(1, 1_000_000),
      DEFAULT_LIMITS.maxBadFramesPerMinute,
    )
    .option(
      "--idle-timeout <seconds>",
      "close a client not heard from for this long (pinged after half of it)",
      intOption(2, 24 * 3600),
      DEFAULT_LIMITS.idleTimeoutMs / 1000,
    )
    .option(
      "--text-idle-timeout <seconds>",
      "close a plain-text (nc) session that sends no line for this long (told after half of it)",
      intOption(2, 7 * 24 * 3600),
      DEFAULT_LIMITS.textIdleTimeoutMs / 1000,
    )
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
      "--retention <days>",
      "delete logged messages older than this, delivered or not (0: keep forever)",
      intOption(0, 100 * 365),
      DEFAULT_LIMITS.retentionDays,
    )
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
      await checkAdmins(o.data, o.admin);
      const plugins = enabledPlugins(o.disable);
      const pluginOptions = pluginOptionValues(o, plugins, "serve");
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
        serverName: o.name,
        logLevel: o.logLevel as LogLevel,
        limits: {
          maxFrameBytes: o.maxFrameBytes,
          maxTextLength: o.maxTextLength,
          maxNameLength: o.maxNameLength,
          sendQueueBytes: o.sendQueueBytes,
          loginFailuresPerAccount: o.loginFailuresPerAccount,
          loginFailuresPerAddress: o.loginFailuresPerAddress,
          loginBadTokensPerAddress: o.loginBadTokensPerAddress,
          loginWindowMs: o.loginWindow * 1000,
          loginSlowdownAfter: o.loginSlowdownAfter,
          loginSlowdownMs: o.loginSlowdown,
          loginSlowdownMaxWaitMs: o.loginSlowdownMaxWait * 1000,
          retentionDays: o.retention,
          maxConnections: o.maxConnections,
          maxConnectionsPerAddress: o.maxConnectionsPerAddress,
          connectionsPerAddressPerMinute: o.connectionsPerAddressPerMinute,
          loginTimeoutMs: o.loginTimeout * 1000,
          handshakeTimeoutMs: o.handshakeTimeout * 1000,
          framesPerSecond: o.framesPerSecond,
          frameBurst: o.frameBurst,
          maxBadFramesPerMinute: o.maxBadFrames,
          idleTimeoutMs: o.idleTimeout * 1000,
          textIdleTimeoutMs: o.textIdleTimeout * 1000,
        },
      });
      const { hostname, port } = server.addr;
      // Scripts and tests read this line to learn the port (with --port 0).
      console.log(
        `classchat: listening on ${hostname}:${port} (data: ${o.data}; plugins: ${
          server.pluginNames.join(", ")
        })`,
      );
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

/** --admin must name accounts that exist before the server listens: a name alone would make
 *  an admin of whoever registers it first, a student who got there before the instructor. */
async function checkAdmins(dataDir: string, names: string[]) {
  if (names.length === 0) return;
  const missing = await missingAccounts(dataDir, names);
  if (missing.length === 0) return;
  const name = missing[0];
  throw new UsageError(
    `--admin ${name}: there is no account "${name}" in ${dataDir} yet, and the first person ` +
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
