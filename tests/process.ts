/** Helpers for tests that run the real CLI as subprocesses (`deno run main.ts ...`). */
import { pw } from "./harness.ts";
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
const PERMS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"];
/** The V8 flags `deno task serve` gives the server (deno.json): a server under test runs as
 *  the one users run (its memory, in particular, depends on them). */
const SERVE_V8_FLAGS = [
  (JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))).tasks
    .serve as string).match(/--v8-flags=\S+/)![0],
];

export interface ServerProcess {
  port: number;
  pid: number;
  /** The data directory (removed by stop()). */
  data: string;
  /** The server's certificate (PEM) and its SHA-256 fingerprint as the server printed it;
   *  undefined with --no-tls. */
  cert?: string;
  fingerprint?: string;
  child: Deno.ChildProcess;
  /** What the server wrote to stderr so far (with captureLog). */
  log(): string;
  /** Sends a signal and waits for exit; returns the exit code. The data directory is
   *  removed unless keepData (to restart on it). */
  stop(signal?: Deno.Signal, keepData?: boolean): Promise<number>;
}

/** Starts `classchat serve --port 0` and waits for its "listening on" line. Passwords are
 *  hashed at the lowest cost unless `args` says otherwise. `data` reuses a directory. */
export async function spawnServer(
  args: string[] = [],
  data?: string,
  opts: { captureLog?: boolean; under?: string[] } = {},
): Promise<ServerProcess> {
  data ??= await Deno.makeTempDir({ prefix: "classchat-test-" });
  // `under` runs it under another command, e.g. ["prlimit", "--nofile=200:200"].
  const [command, ...before] = [...(opts.under ?? []), DENO];
  const child = new Deno.Command(command, {
    args: [
      ...before,
      "run",
      ...PERMS,
      ...SERVE_V8_FLAGS,
      MAIN,
      "serve",
      "--port",
      "0",
      "--web-port",
      "0",
      "--data",
      data,
      "--log-level",
      "warn",
      "--scrypt-cost",
      "10",
      ...args,
    ],
    stdout: "piped",
    stderr: opts.captureLog ? "piped" : "inherit",
    stdin: "null",
  }).spawn();
  let log = "";
  const logDone = opts.captureLog
    ? (async () => {
      for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) log += t;
    })()
    : Promise.resolve();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited before listening: ${seen}`);
    seen += value;
    const m = seen.match(/listening on \S+:(\d+)/);
    if (m) {
      // Keep draining stdout so the server never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })();
      const fingerprint = seen.match(/TLS fingerprint \(SHA-256\) ([0-9A-F:]+)/)?.[1];
      return {
        port: Number(m[1]),
        pid: child.pid,
        child,
        data,
        fingerprint,
        log: () => log,
        cert: fingerprint && await Deno.readTextFile(`${data}/tls/cert.pem`),
        async stop(signal: Deno.Signal = "SIGTERM", keepData = false) {
          try {
            child.kill(signal);
          } catch { /* already gone */ }
          const status = await child.status;
          await logDone;
          if (!keepData) await Deno.remove(data!, { recursive: true }).catch(() => {});
          return status.code;
        },
      };
    }
  }
}

/** Runs fn against a fresh `classchat serve` process and always stops it. */
export async function withServerProcess(fn: (server: ServerProcess) => Promise<void>) {
  const server = await spawnServer();
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `classchat <args>` with the given stdin lines (a pipe, so the scripted client mode). */
export async function runCli(
  args: string[],
  stdin = "",
  env: Record<string, string> = {},
): Promise<CliResult> {
  const child = new Deno.Command(DENO, {
    args: ["run", ...PERMS, MAIN, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A client's own config directory (known_hosts, keys): one per test client, like one
 *  student's computer. Removed when the test process exits. */
export function clientConfigDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "classchat-client-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

/** Arguments and environment for `connect <name>` to a test server: trusts its key and logs
 *  in with the test password. */
export function connectArgs(name: string, server: ServerProcess, config = clientConfigDir()) {
  const args = ["connect", name, "--port", String(server.port)];
  if (server.fingerprint) args.push("--trust", server.fingerprint);
  else args.push("--no-tls");
  return { args, env: { CLASSCHAT_PASSWORD: pw(name), CLASSCHAT_CONFIG_DIR: config } };
}

/** Spawns a client whose stdin stays open until `end()`, reading its stdout as lines arrive. */
export function spawnClient(
  name: string,
  server: ServerProcess,
  config?: string,
  extraArgs: string[] = [],
  extraEnv: Record<string, string> = {},
) {
  const { args: base, env } = connectArgs(name, server, config);
  const args = [...base, ...extraArgs];
  const child = new Deno.Command(DENO, {
    args: ["run", ...PERMS, MAIN, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env, ...extraEnv },
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  const pump = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
      wake?.();
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    lines,
    pid: child.pid,
    async type(line: string) {
      await writer.write(new TextEncoder().encode(line + "\n"));
    },
    /** Waits until a stdout line matches re. */
    async waitFor(re: RegExp, ms = 15000): Promise<string> {
      const deadline = Date.now() + ms;
      while (true) {
        const hit = lines.find((l) => re.test(l));
        if (hit) return hit;
        if (Date.now() > deadline) {
          throw new Error(`${name}: no line ${re}; got:\n${lines.join("\n")}`);
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    },
    /** Closes stdin and waits for the process to exit. */
    async end(): Promise<{ code: number; stdout: string; stderr: string }> {
      await writer.close();
      const status = await child.status;
      await pump;
      return { code: status.code, stdout: lines.join("\n"), stderr: await stderr };
    },
  };
}

/** A course's server as the README sets one up: `classchat admin add-admin Prof` in a fresh
 *  data directory, then `classchat serve --class-room cs350` (plus `args`). */
export async function spawnClassServer(args: string[] = []): Promise<ServerProcess> {
  const data = await Deno.makeTempDir({ prefix: "classchat-test-" });
  const made = await runCli(["admin", "add-admin", "Prof", "--data", data], "", {
    CLASSCHAT_PASSWORD: pw("Prof"),
  });
  if (made.code !== 0) throw new Error(`admin add-admin Prof failed: ${made.stderr}`);
  return await spawnServer(["--class-room", "cs350", ...args], data);
}
