/**
 * The stage for the README's screenshots (screenshots.ts): a real `classchat serve` on a
 * temporary data directory, and people, each with a home directory of their own (their
 * config, keys and downloads, as on their own computer) and a bash in an 80x24 tmux terminal.
 */
import type { Pane } from "./terminal_html.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO = Deno.execPath();
/** The terminal every person gets: the classic size, which the client must look right in. */
const COLUMNS = 80;
const ROWS = 24;
/** How long a wait for a screen to show something may take before the script gives up. */
const WAIT_MS = 20_000;
/** The port the README uses, so the commands shown need no --port; another if it is taken. */
const PREFERRED_PORT = 5757;

const SOCKET = `classchat-screenshots-${Deno.pid}`;
const denoDir = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(DENO, { args: ["info", "--json"] }).output())
      .stdout,
  ),
).denoDir as string;
/** The tmux server's environment: nothing of the caller's (its NO_COLOR, its HOME). */
const TMUX_ENV = {
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  TERM: "xterm-256color",
  LANG: "C.UTF-8",
  DENO_DIR: denoDir,
};

export async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", SOCKET, "-f", "/dev/null", ...args],
    env: TMUX_ENV,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

const password = (name: string) => `${name.toLowerCase()}-classchat-password`;

async function run(args: string[], env: Record<string, string>, stdin = "") {
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", MAIN, ...args],
    env: { DENO_DIR: denoDir, NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`classchat ${args.join(" ")} failed:\n${text}`);
}

function portIsFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

export class Server {
  #terms = 0;

  private constructor(
    readonly port: number,
    readonly fingerprint: string,
    private readonly child: Deno.ChildProcess,
    private readonly root: string,
  ) {}

  /** Starts `classchat serve` with `args`, `admins` made server admins first. */
  static async start(args: string[], admins: string[]): Promise<Server> {
    // A short fixed place, as the paths it holds show on screen (Bob's downloads).
    const root = `${Deno.env.get("TMPDIR") ?? "/tmp"}/classchat-shots`;
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.mkdir(root);
    const data = `${root}/data`;
    for (const name of admins) {
      await run(["admin", "add-admin", name, "--data", data], {
        CLASSCHAT_PASSWORD: password(name),
      });
    }
    const port = portIsFree(PREFERRED_PORT) ? PREFERRED_PORT : 0;
    const child = new Deno.Command(DENO, {
      args: [
        "run",
        "-A",
        MAIN,
        "serve",
        "--port",
        `${port}`,
        "--web-port",
        "0",
        "--data",
        data,
        ...args,
      ],
      env: { DENO_DIR: denoDir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!/listening on \S+:(\d+)/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server did not start:\n${seen}`);
      seen += value;
    }
    (async () => {
      while (!(await reader.read()).done) { /* keep its pipe drained */ }
    })();
    const fingerprint = seen.match(/TLS fingerprint \(SHA-256\) ([0-9A-F:]+)/)![1];
    const actual = Number(seen.match(/listening on \S+:(\d+)/)![1]);
    return new Server(actual, fingerprint, child, root);
  }

  home(name: string): string {
    return `${this.root}/${name.toLowerCase()}`;
  }

  /** `name` logs in once, unseen: the account, its keys, and the server trusted, so what the
   *  screenshots show is a returning student's session. */
  async account(name: string): Promise<void> {
    await Deno.mkdir(this.home(name), { recursive: true });
    const args = ["connect", name, "--port", `${this.port}`, "--trust", this.fingerprint];
    await run(args, { HOME: this.home(name), CLASSCHAT_PASSWORD: password(name) }, "/quit\n");
  }

  /** A file of `bytes` random bytes in `name`'s home. */
  async file(name: string, file: string, bytes: number): Promise<void> {
    const data = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    await Deno.writeFile(`${this.home(name)}/${file}`, data);
  }

  /** Opens `name`'s terminal and runs `classchat connect <name>` in it, as they would type. */
  async open(name: string): Promise<Term> {
    const home = this.home(name);
    const rc = `${home}/.screenshots_bashrc`;
    await Deno.writeTextFile(
      rc,
      `PS1='$ '\nclasschat() { "${DENO}" run -A "${MAIN}" "$@"; }\n`,
    );
    const t = new Term(`${name}-${++this.#terms}`, name);
    await tmux(
      ...["new-session", "-d", "-s", t.session, "-x", `${COLUMNS}`, "-y", `${ROWS}`, "-c", home],
      ...["-e", `HOME=${home}`, "-e", `CLASSCHAT_PASSWORD=${password(name)}`],
      `bash --noprofile --rcfile ${rc} -i`,
    );
    await t.shows(/^\$$/m);
    const port = this.port === PREFERRED_PORT ? "" : ` --port ${this.port}`;
    await t.say(`classchat connect ${name}${port}`, new RegExp(`logged in as ${name}`));
    return t;
  }

  async stop(): Promise<void> {
    await tmux("kill-server").catch(() => {});
    try {
      this.child.kill("SIGTERM");
    } catch { /* gone already */ }
    await this.child.status;
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** One person's terminal. */
export class Term {
  constructor(readonly session: string, readonly name: string) {}

  /** Types text literally (without Enter). */
  async type(text: string): Promise<void> {
    await tmux("send-keys", "-t", this.session, "-l", text);
  }

  /** Types a line, presses Enter, and waits for `re` on the screen. */
  async say(text: string, re: RegExp): Promise<void> {
    await this.type(text);
    await tmux("send-keys", "-t", this.session, "Enter");
    await this.shows(re);
  }

  /** Waits until the screen (wrapped rows joined) matches `re`. */
  async shows(re: RegExp): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const screen = (await tmux("capture-pane", "-t", this.session, "-p", "-J")).trimEnd();
      if (re.test(screen)) return;
      if (Date.now() > deadline) {
        throw new Error(`${this.name}'s screen never showed ${re}:\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The screen as it is, with colours and the cursor. */
  async capture(): Promise<Pane> {
    const text = await tmux("capture-pane", "-t", this.session, "-p", "-e");
    const rows = text.replace(/\n$/, "").split("\n");
    while (rows.length < ROWS) rows.push("");
    const [x, y] =
      (await tmux("display-message", "-t", this.session, "-p", "#{cursor_x},#{cursor_y}"))
        .trim().split(",").map(Number);
    return {
      title: `${this.name}'s terminal`,
      rows: rows.slice(0, ROWS),
      columns: COLUMNS,
      cursor: { x, y },
    };
  }
}
