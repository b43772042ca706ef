/** Helpers for tests that run the real CLI as subprocesses (`deno run main.ts ...`). */
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
const PERMS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys"];

export interface ServerProcess {
  port: number;
  pid: number;
  child: Deno.ChildProcess;
  /** Sends a signal and waits for exit; returns the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Starts `classchat serve --port 0` and waits for its "listening on" line. */
export async function spawnServer(args: string[] = []): Promise<ServerProcess> {
  const data = await Deno.makeTempDir({ prefix: "classchat-test-" });
  const child = new Deno.Command(DENO, {
    args: [
      "run",
      ...PERMS,
      MAIN,
      "serve",
      "--port",
      "0",
      "--data",
      data,
      "--log-level",
      "warn",
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
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
      return {
        port: Number(m[1]),
        pid: child.pid,
        child,
        async stop(signal: Deno.Signal = "SIGTERM") {
          try {
            child.kill(signal);
          } catch { /* already gone */ }
          const status = await child.status;
          await Deno.remove(data, { recursive: true }).catch(() => {});
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

/** Spawns a client whose stdin stays open until `end()`, reading its stdout as lines arrive. */
export function spawnClient(name: string, port: number) {
  const child = new Deno.Command(DENO, {
    args: ["run", ...PERMS, MAIN, "connect", name, "--port", String(port)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
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
