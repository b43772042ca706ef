/**
 * Helpers to run the project as a user does: `deno task <name>` from the checkout, with the
 * task's own permission flags (never -A), a fresh HOME and no environment of the test's.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { hasTmux, tmux } from "./tmux.ts";

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const DENO = Deno.execPath();

/** deno.json's tasks; a task is a string or `{ command, description }`. */
const TASKS: Record<string, string | { command: string }> =
  JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;

export function taskCommand(name: string): string {
  const t = TASKS[name];
  if (t === undefined) throw new Error(`deno.json has no task ${name}`);
  return typeof t === "string" ? t : t.command;
}

/** The permission and V8 flags the compile task bakes into the binary, read from deno.json so
 *  the test cannot drift from it: `deno run <these> main.ts` is the binary (deno compile itself
 *  downloads a runtime, which cannot happen here). A compile-only flag added to the task would
 *  make `deno run` refuse it, failing the test loudly rather than testing something else. */
export function compileRunFlags(): string[] {
  const words = taskCommand("compile").trim().split(/\s+/);
  const flags = words.slice(words.indexOf("compile") + 1, words.lastIndexOf("main.ts"));
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === "--output" || flags[i] === "-o") i++;
    else if (!flags[i].startsWith("--output=")) out.push(flags[i]);
  }
  return out;
}

/** Deno's cache, shared with the fresh HOME so the npm packages are not fetched again. */
const DENO_DIR = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(DENO, { args: ["info", "--json"], stdout: "piped" }).output()).stdout,
  ),
).denoDir as string;

/** A new user's environment: a fresh home, deno on the PATH, nothing else of ours. */
export function userEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const path = `${dirname(DENO)}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
  return { PATH: path, HOME: home, DENO_DIR, ...extra };
}

/** `deno <args>` (e.g. `task serve --help`) from the checkout, stdin not a terminal. */
export async function runAsUser(
  args: string[],
  env: Record<string, string>,
  cwd = ROOT,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(DENO, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

export { hasTmux };

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs `deno <args>` from the checkout in a tmux terminal (Deno asks for missing permissions
 *  only on a terminal, where a non-terminal run fails instead) and returns its exit code and
 *  everything it showed. A permission prompt fails at once, with the screen. */
export async function runInTerminal(
  tag: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; screen: string }> {
  const session = `tasks-${Deno.pid}-${tag}`;
  const vars = Object.entries({ ...env, TERM: "xterm-256color" })
    .map(([k, v]) => `${k}=${quote(v)}`).join(" ");
  const cmd = `cd ${quote(ROOT)} && env -i ${vars} ${[DENO, ...args].map(quote).join(" ")}; ` +
    `echo "EXIT=$?"; sleep 600`;
  await tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", cmd);
  try {
    const deadline = Date.now() + 30_000;
    while (true) {
      const screen = await tmux("capture-pane", "-t", session, "-p", "-J", "-S", "-2000");
      const exit = screen.match(/^EXIT=(\d+)$/m);
      if (exit) return { code: Number(exit[1]), screen };
      if (/Deno requests/.test(screen) || Date.now() > deadline) {
        throw new Error(`deno ${args.join(" ")} asked or hung:\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await tmux("kill-session", "-t", session).catch(() => {});
  }
}
