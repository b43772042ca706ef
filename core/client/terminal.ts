/**
 * The two faces of the client. In a terminal: node:readline gives line editing and history,
 * and incoming lines are printed above the line being typed, which is then redrawn intact.
 * Otherwise (a pipe or script): plain lines, one per event, in a stable format (docs/PROTOCOL.md).
 */
import * as readline from "node:readline";
import process from "node:process";
import { LineSplitter } from "../../protocol/framing.ts";
import { withoutBidiControls } from "../../protocol/spec.ts";
import type { Ui } from "../../plugins/types.ts";
import { localTime } from "./show.ts";

const enc = new TextEncoder();
/** Longest input line read from a pipe; longer lines are skipped (the server caps frames too). */
const MAX_INPUT_LINE_BYTES = 1024 * 1024;

const ansi = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const plain = (s: string) => s;

/** Control characters but tab (C0, DEL, C1): what the protocol's `text` fields refuse. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
/** The same, matching colour (SGR) sequences whole first, so they can be kept. */
// deno-lint-ignore no-control-regex
const CONTROLS_BUT_COLOUR = /\x1b\[[0-9;]*m|[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * The last line of defence for the terminal: decoders refuse control characters in shown text,
 * but a field a decoder missed must still not move the cursor, clear the screen or forge a line
 * (a newline). Each control character becomes U+FFFD; with colour, the colour sequences the
 * styles make are kept (a colour is all an unchecked field could then add). Bidi overrides and
 * isolates are removed (text fields have none; see withoutBidiControls).
 */
export function safeText(text: string, color: boolean): string {
  return withoutBidiControls(text).replace(
    color ? CONTROLS_BUT_COLOUR : CONTROLS,
    (c) => c.length > 1 ? c : "\uFFFD",
  );
}

/** NO_COLOR (https://no-color.org) turns colour off whatever the terminal can do. */
export function colorWanted(): boolean {
  return Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
}

export function makeUi(
  write: (line: string) => void,
  color: boolean,
  status: (id: string, text: string | undefined) => void = () => {},
): Ui {
  const style = color
    ? { name: ansi("1;36"), dim: ansi("2"), bold: ansi("1") }
    : { name: plain, dim: plain, bold: plain };
  const red = color ? ansi("1;31") : plain;
  const yellow = color ? ansi("33") : plain;
  const safe = (text: string) => safeText(text, color);
  return {
    line: (text) => write(safe(text)),
    notice: (text) => write(yellow("* ") + safe(text)),
    error: (code, message) => write(red(`! ${safe(code)}: `) + safe(message)),
    progress: (id, text) => status(id, text === undefined ? undefined : safe(text)),
    style,
    time: localTime,
  };
}

/** Pipe mode: each event is one line on stdout, written synchronously so order is kept. */
export function pipeUi(): Ui {
  return makeUi((line) => writeAll(Deno.stdout, enc.encode(line + "\n")), false);
}

function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/** Pipe mode input: stdin split into lines with a bounded splitter. */
export async function* stdinLines(): AsyncGenerator<string> {
  const splitter = new LineSplitter(MAX_INPUT_LINE_BYTES);
  const dec = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    for (const ev of splitter.push(chunk)) if (ev.kind === "line") yield dec.decode(ev.bytes);
  }
  const rest = splitter.push(new Uint8Array([0x0a]));
  for (const ev of rest) if (ev.kind === "line" && ev.bytes.length) yield dec.decode(ev.bytes);
}

export interface Tty {
  ui: Ui;
  /** Calls onLine for every line typed and onEnd when input closes (Ctrl-D / Ctrl-C). */
  start(onLine: (line: string) => void, onEnd: () => void): void;
  /** Asks a question on the prompt line; undefined if input closes first (Ctrl-D, Ctrl-C). */
  ask(question: string): Promise<string | undefined>;
  /** Like ask, but what is typed is not shown and not kept in the history (passwords). */
  askSecret(question: string): Promise<string | undefined>;
  close(): void;
}

/** Terminal mode: a readline prompt with history; output goes above the prompt. */
export function terminal(prompt = "> "): Tty {
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    historySize: 1000,
    prompt,
  });
  let started = false;
  let closed = false;
  const out = process.stdout;
  /** readline's own record of the row (within the typed line, which wraps at the terminal's
   *  width) where it left the cursor; its refresh moves up by it to redraw the line. */
  const rlRows = rl as unknown as { prevRows: number };
  // Whatever was on the prompt stays where it was, and the shell's prompt starts on a new row.
  rl.on("close", () => {
    closed = true;
    if (started) leave(rl.line === "");
  });
  // After a resize the terminal rewraps the typed line (tmux, VTE and iTerm do), so the row the
  // cursor is on changes: tell readline before its own redraw moves up by the old count.
  out.prependListener("resize", () => (rlRows.prevRows = rl.getCursorPos().rows));
  // Ctrl-C ends the session at any point, also while a question is being asked.
  rl.on("SIGINT", () => rl.close());
  // Live status lines (file progress) sit between the output and the prompt: every redraw
  // clears them and the prompt, prints any new output, then draws them and the prompt again.
  const statuses = new Map<string, string>();
  let shown = 0;
  /** Set while a secret is typed (askSecret): nothing of it is on screen. */
  let muted = false;
  // readline counts the rows of what is typed at the terminal's width (its `columns`) to
  // redraw it; a secret takes no rows on screen, so while one is typed it counts on an
  // endless row and never moves up over the lines above the question.
  Object.defineProperty(rl, "columns", {
    get: () => (muted ? Infinity : out.columns || Infinity),
    configurable: true,
  });
  /** How many screen rows text takes at the terminal's width (at least one). */
  const rowsOf = (text: string) =>
    Math.max(1, Math.ceil([...text].length / Math.max(1, out.columns ?? 80)));
  /** Clears the typed line (every row it wraps over) and the status lines above it. */
  const clearInput = () => {
    readline.moveCursor(out, 0, -(rlRows.prevRows + shown));
    readline.cursorTo(out, 0);
    readline.clearScreenDown(out);
    shown = 0;
    rlRows.prevRows = 0;
  };
  const redraw = (line?: string) => {
    clearInput();
    if (line !== undefined) out.write(line + "\n");
    // One screen row each, or the count of rows to clear next time would be wrong.
    const width = Math.max(10, (out.columns ?? 80) - 1);
    for (const text of statuses.values()) out.write(text.slice(0, width) + "\n");
    shown = statuses.size;
    rl.prompt(true);
  };
  /** At exit: an empty prompt is erased; a half-typed line is kept, ended by a newline. */
  const leave = (empty: boolean) => {
    if (empty) return clearInput();
    const below = rowsOf(rl.getPrompt() + rl.line) - 1 - rlRows.prevRows;
    if (below > 0) readline.moveCursor(out, 0, below);
    out.write("\r\n");
  };
  /** After a question in the chat, the chat's prompt is drawn again (unless the one who
   *  asked asks another at once: that question then replaces it). */
  const chatPromptBack = () => {
    if (started && !closed) rl.prompt(true);
  };
  const write = (line: string) => {
    if (!started || closed) return void out.write(line + "\n");
    redraw(line);
  };
  const status = (id: string, text: string | undefined) => {
    if (text === undefined ? !statuses.delete(id) : statuses.get(id) === text) return;
    if (text !== undefined) statuses.set(id, text);
    if (started && !closed) redraw();
  };
  return {
    ui: makeUi(write, colorWanted(), status),
    start(onLine, onEnd) {
      started = true;
      rl.on("line", (line) => {
        // Enter left the typed line (on as many rows as it wrapped over) under the status
        // lines: move it above them.
        if (shown > 0) shown += rowsOf(prompt + line), redraw(prompt + line);
        onLine(line);
        rl.prompt(true);
      });
      rl.on("close", onEnd);
      rl.prompt();
    },
    ask: (question) =>
      new Promise((resolve) => {
        if (closed) return resolve(undefined);
        const onClose = () => resolve(undefined);
        rl.once("close", onClose);
        rl.question(question, (answer) => {
          rl.off("close", onClose);
          resolve(answer);
          chatPromptBack();
        });
      }),
    askSecret: (question) =>
      new Promise((resolve) => {
        if (closed) return resolve(undefined);
        // readline echoes through _writeToOutput (node's and Deno's port alike): while the
        // answer is typed it writes only the question (a redraw writes question + line).
        const rlOut = rl as unknown as { _writeToOutput(s: string): void; history: string[] };
        const echo = rlOut._writeToOutput;
        const done = (answer: string | undefined) => {
          rlOut._writeToOutput = echo;
          muted = false;
          rl.off("close", onClose);
          if (answer !== undefined && rlOut.history[0] === answer) rlOut.history.shift();
          out.write("\r\n");
          resolve(answer);
          if (answer !== undefined) chatPromptBack();
        };
        const onClose = () => done(undefined);
        rl.once("close", onClose);
        rl.question(question, done);
        muted = true;
        rlOut._writeToOutput = (text) => {
          if (text.startsWith(question)) echo.call(rl, question);
        };
      }),
    close: () => rl.close(),
  };
}
