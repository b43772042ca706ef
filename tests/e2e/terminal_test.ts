/**
 * What a person sees: the interactive client in a real terminal (tmux), typed into with
 * send-keys and read with capture-pane.
 */
import assert from "node:assert/strict";
import { withServer } from "../harness.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const hasTmux = new Deno.Command("tmux", { args: ["-V"] }).output().then(
  (o) => o.success,
  () => false,
);

/** A tmux server of our own: isolated from the user's, and from the environment of whoever
 *  started a shared one (its NO_COLOR would leak into every session). */
const SOCKET = `classchat-test-${Deno.pid}`;
const tmuxEnv = { ...Deno.env.toObject(), TERM: "xterm-256color" };
delete (tmuxEnv as Record<string, string | undefined>).NO_COLOR;
// A session that keeps the tmux server alive between tests (it exits with its last session).
if (await hasTmux) {
  await tmux("new-session", "-d", "-s", "keep", "sleep 600");
  globalThis.addEventListener("unload", () => {
    new Deno.Command("tmux", { args: ["-L", SOCKET, "kill-server"] }).outputSync();
  });
}

async function tmux(...args: string[]): Promise<string> {
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

/** Polls the pane until test passes (bounded); returns the screen's non-empty lines. */
async function screenUntil(session: string, test: (lines: string[]) => boolean): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  while (true) {
    const lines = (await tmux("capture-pane", "-t", session, "-p")).split("\n").filter((l) => l);
    if (test(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`screen never matched:\n${lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name: "terminal - incoming messages print above the half-typed line, which stays intact",
  ignore: !(await hasTmux),
  fn: () =>
    withServer(async (h) => {
      const session = `cc-${Deno.pid}-a`;
      const [bob] = await h.users("Bob");
      await tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "120",
        "-y",
        "20",
        `NO_COLOR=1 ${Deno.execPath()} run -A ${MAIN} connect Alice --port ${h.port}`,
      );
      try {
        await screenUntil(session, (l) => l.some((x) => x.startsWith("* logged in as Alice")));
        await bob.expect("presence.joined");
        await tmux("send-keys", "-t", session, "-l", "Bob: still typ");
        await screenUntil(session, (l) => l.at(-1) === "> Bob: still typ");
        await bob.ok("dm.send", { receiver: "Alice", text: "are you there?" });
        const lines = await screenUntil(session, (l) => l.includes("Bob: are you there?"));
        assert.equal(lines.at(-1), "> Bob: still typ"); // the prompt and typed text, redrawn
        assert.equal(lines.at(-2), "Bob: are you there?");
        await tmux("send-keys", "-t", session, "-l", "ing");
        await tmux("send-keys", "-t", session, "Enter");
        assert.equal((await bob.expect("dm.message")).text, "still typing");
      } finally {
        await tmux("kill-session", "-t", session).catch(() => {});
      }
    }),
});

Deno.test({
  name: "terminal - a taken name makes the client ask for another",
  ignore: !(await hasTmux),
  fn: () =>
    withServer(async (h) => {
      const session = `cc-${Deno.pid}-b`;
      const [alice] = await h.users("Alice");
      await tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "120",
        "-y",
        "20",
        `NO_COLOR=1 ${Deno.execPath()} run -A ${MAIN} connect alice --port ${h.port}`,
      );
      try {
        await screenUntil(session, (l) => l.some((x) => x.startsWith("! NAME_IN_USE")));
        await screenUntil(session, (l) => l.at(-1) === "name>");
        assert.equal(
          (await tmux("capture-pane", "-t", session, "-p")).match(/NAME_IN_USE/g)?.length,
          1, // the problem is said once, then the client asks
        );
        await tmux("send-keys", "-t", session, "-l", "Alice2");
        await tmux("send-keys", "-t", session, "Enter");
        await screenUntil(session, (l) => l.some((x) => x.startsWith("* logged in as Alice2")));
        assert.equal((await alice.expect("presence.joined")).name, "Alice2");
      } finally {
        await tmux("kill-session", "-t", session).catch(() => {});
      }
    }),
});

Deno.test({
  name: "terminal - Ctrl-D at the name prompt ends the client instead of hanging",
  ignore: !(await hasTmux),
  fn: () =>
    withServer(async (h) => {
      const session = `cc-${Deno.pid}-c`;
      await h.users("Alice");
      await tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "120",
        "-y",
        "20",
        `NO_COLOR=1 ${Deno.execPath()} run -A ${MAIN} connect alice --port ${h.port}; echo EXITED $?; sleep 30`,
      );
      try {
        await screenUntil(session, (l) => l.at(-1) === "name>");
        await tmux("send-keys", "-t", session, "C-d");
        await screenUntil(session, (l) => l.some((x) => x.includes("EXITED 1")));
      } finally {
        await tmux("kill-session", "-t", session).catch(() => {});
      }
    }),
});

Deno.test({
  name: "terminal - colour in a terminal, none with NO_COLOR",
  ignore: !(await hasTmux),
  fn: () =>
    withServer(async (h) => {
      for (const [env, coloured] of [["", true], ["NO_COLOR=1 ", false]] as const) {
        const session = `cc-${Deno.pid}-d${coloured ? 1 : 0}`;
        await tmux(
          "new-session",
          "-d",
          "-s",
          session,
          "-x",
          "120",
          "-y",
          "20",
          `${env}${Deno.execPath()} run -A ${MAIN} connect C${+coloured} --port ${h.port}`,
        );
        try {
          await screenUntil(session, (l) => l.some((x) => x.includes("logged in as")));
          const raw = await tmux("capture-pane", "-t", session, "-p", "-e");
          assert.equal(raw.includes("\x1b["), coloured, raw);
        } finally {
          await tmux("kill-session", "-t", session).catch(() => {});
        }
      }
    }),
});
