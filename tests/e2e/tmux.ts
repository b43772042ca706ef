/**
 * A real terminal for the client tests: a tmux server of the tests' own, one session per
 * client, typed into with send-keys and read with capture-pane.
 */
import { type Harness, pw, withServer } from "../harness.ts";
import { clientConfigDir } from "../process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
export const hasTmux = await new Deno.Command("tmux", { args: ["-V"] }).output().then(
  (o) => o.success,
  () => false,
);

/** A tmux server of our own, one per test module (modules may share a process): isolated from
 *  the user's, and from the environment of whoever started a shared one (its NO_COLOR would
 *  leak into every session). */
const SOCKET = `classchat-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
const tmuxEnv: Record<string, string> = { ...Deno.env.toObject(), TERM: "xterm-256color" };
delete tmuxEnv.NO_COLOR;
if (hasTmux) {
  // A session that keeps the tmux server alive between tests (it exits with its last session).
  await tmux("new-session", "-d", "-s", "keep", "sleep 600");
  globalThis.addEventListener("unload", () => {
    new Deno.Command("tmux", { args: ["-L", SOCKET, "kill-server"] }).outputSync();
  });
}

export async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", SOCKET, ...args],
    env: tmuxEnv,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** One client running in a 120x20 terminal. */
export class Screen {
  /** Read rows a line wrapped over as the one line they show (capture-pane -J). */
  joined = false;

  constructor(readonly session: string) {}

  /** Runs `connect <name>` in a new terminal; `then` is shell run after the client exits.
   *  Unless `prompts`, the server is trusted and the password given by the environment. */
  static async open(
    tag: string,
    h: Harness,
    name: string,
    env = "NO_COLOR=1 ",
    then = "",
    prompts = false,
  ) {
    const s = new Screen(`cc-${Deno.pid}-${tag}`);
    env += `CLASSCHAT_CONFIG_DIR=${clientConfigDir()} `;
    let flags = "";
    if (!prompts) {
      env += `CLASSCHAT_PASSWORD=${pw(name)} `;
      flags = ` --trust ${h.fingerprint}`;
    }
    const cmd =
      `${env}${Deno.execPath()} run -A ${MAIN} connect ${name} --port ${h.port}${flags}${then}`;
    await tmux("new-session", "-d", "-s", s.session, "-x", "120", "-y", "20", cmd);
    return s;
  }

  /** Types text (literally) and optionally presses Enter. */
  async type(text: string, enter = false) {
    if (text) await tmux("send-keys", "-t", this.session, "-l", text);
    if (enter) await tmux("send-keys", "-t", this.session, "Enter");
  }

  key(name: string) {
    return tmux("send-keys", "-t", this.session, name);
  }

  /** Resizes the terminal, as a person dragging the window's corner does. */
  resize(columns: number, rows = 20) {
    return tmux("resize-window", "-t", this.session, "-x", `${columns}`, "-y", `${rows}`);
  }

  raw(escapes = false): Promise<string> {
    const flags = [...(escapes ? ["-e"] : []), ...(this.joined ? ["-J"] : [])];
    return tmux("capture-pane", "-t", this.session, "-p", ...flags);
  }

  /** Polls until test passes (bounded); returns the screen's non-empty lines. */
  async until(test: (lines: string[]) => boolean): Promise<string[]> {
    const deadline = Date.now() + 15_000;
    while (true) {
      const lines = (await this.raw()).split("\n").filter((l) => l);
      if (test(lines)) return lines;
      if (Date.now() > deadline) throw new Error(`screen never matched:\n${lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  shows(re: RegExp) {
    return this.until((lines) => lines.some((l) => re.test(l)));
  }

  close() {
    return tmux("kill-session", "-t", this.session).catch(() => {});
  }
}

/** A test with a server and one terminal client; the terminal is always closed. */
export function terminalTest(
  name: string,
  user: string,
  fn: (h: Harness, s: Screen) => Promise<void>,
  then = "",
) {
  Deno.test({
    name: `terminal - ${name}`,
    ignore: !hasTmux,
    fn: () =>
      withServer(async (h) => {
        await h.users("Bob"); // someone to talk to, and the holder of the name "bob"
        const screen = await Screen.open(name.length.toString(36), h, user, "NO_COLOR=1 ", then);
        try {
          await fn(h, screen);
        } finally {
          await screen.close();
        }
      }),
  });
}
