/**
 * A fake ClassChat server for the client robustness tests: accepts plain-TCP connections,
 * records what the client sends and, when told to, answers like the real server closely
 * enough to log anyone in; what else it sends is up to each test. Also the checks those tests
 * share (no crash text, no raw escapes) and the bookkeeping of client processes.
 */
import assert from "node:assert/strict";
import { encodeFrame, LineSplitter } from "../../protocol/framing.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import { type ServerProcess, spawnClient } from "../process.ts";

const enc = new TextEncoder();

/** Fails on anything that looks like a crash or a leak of the runtime's internals, and on any
 *  escape character (the client prints no colour in a pipe: an ESC came from the server). */
export function assertNoCrash(out: string, what: string) {
  assert.doesNotMatch(out, /^\s+at /m, `${what}: a stack trace\n${out}`);
  assert.doesNotMatch(out, /error: Uncaught/, `${what}: an uncaught error\n${out}`);
  assert.doesNotMatch(out, /\.ts:\d+/, `${what}: a source location\n${out}`);
  assert.doesNotMatch(
    out,
    /TypeError|ReferenceError|RangeError|Cannot read propert|\[object Object\]/,
    `${what}: a JavaScript internal leaked\n${out}`,
  );
  assert.ok(!out.includes("\x1b"), `${what}: a raw ESC reached the terminal\n${out}`);
}

/** Ends a client (closes its input) and checks it quit cleanly: exit 0, nothing that looks
 *  like a crash on either stream. Returns what it printed, for further checks. */
export async function endsClean(c: ReturnType<typeof spawnClient>) {
  const r = await c.end();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assertNoCrash(r.stdout, "stdout");
  assertNoCrash(r.stderr, "stderr");
  return r;
}

/** True while the process runs (not exited, not a zombie). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const started = new Set<number>();

/** spawnClient, remembered so a failed test can kill what it left running. */
export function client(name: string, server: ServerProcess) {
  const c = spawnClient(name, server);
  started.add(c.pid);
  return c;
}

/** Kills clients still running after a test (only a failed test leaves any). */
export async function killLeftovers() {
  for (const pid of started) {
    started.delete(pid);
    if (!(await alive(pid))) continue;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* it just ended */ }
  }
}

/** A plain-TCP stand-in for a server as `spawnClient` expects one (it then adds --no-tls). */
export function at(port: number): ServerProcess {
  return { port } as ServerProcess;
}

/** One connection to the fake server. */
export interface FakeConn {
  index: number;
  /** Every frame the client sent on it, in order. */
  frames: RawFrame[];
  /** Answers the client's requests like the real server while true. */
  answering: boolean;
  /** Answers to use instead, by request type (`re` is added). */
  answers: Record<string, Record<string, unknown>>;
  /** Sends raw bytes, a raw string, or a frame (one JSON line). */
  send(data: Uint8Array | string | Record<string, unknown>): Promise<void>;
  greet(): Promise<void>;
  /** Resolves with the first frame of this type the client sends (or has sent). */
  frame(type: string, ms?: number): Promise<RawFrame>;
  close(): void;
  /** Resolves when the client closed its side (or we did). */
  ended: Promise<void>;
}

export const WELCOME = {
  type: "welcome",
  server: "Fake",
  version: "0.0.0",
  protocol: 1,
  plugins: ["dm", "presence", "offline", "encrypt"],
  limits: { maxFrameBytes: 65536, maxTextLength: 8000, maxNameLength: 32 },
};

/** The real server's answer to a request, closely enough for the client's decoders. */
function answer(f: RawFrame, c: FakeConn, token: string): Record<string, unknown> {
  const re = f.id;
  switch (f.type) {
    case "session.account":
      return { type: "ack", re, name: f.name, exists: true };
    case "session.login":
      return { type: "ack", re, name: f.name, created: false, token };
    case "session.resume":
      return f.token === token
        ? { type: "ack", re, name: f.name }
        : { type: "error", re, code: "BAD_TOKEN", message: "the resume token is unknown" };
    case "encrypt.publish":
      return { type: "ack", re, replaced: false };
    case "presence.who": {
      const me = c.frames.find((x) => x.type === "session.login" || x.type === "session.resume");
      return { type: "ack", re, users: [String(me?.name ?? "Bob"), "Eve"] };
    }
    case "session.quit":
    case "session.ping":
      return { type: "ack", re };
    default:
      return { type: "error", re, code: "UNKNOWN_TYPE", message: `no plugin handles ${f.type}` };
  }
}

/**
 * A fake server on 127.0.0.1: accepts every connection, records what the client sends and, once
 * told to (`greet`, `answering`), speaks the protocol well enough to log anyone in. What it
 * does beyond that is up to the test, through `conn(i)`.
 */
export function fakeServer(opts: { greet?: boolean; welcome?: Record<string, unknown> } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: FakeConn[] = [];
  const token = "tok-" + crypto.randomUUID();
  let wake: () => void = () => {};
  const accepting = (async () => {
    for await (const conn of listener) {
      const frames: RawFrame[] = [];
      let closed = false;
      let frameWake: () => void = () => {};
      const writeAll = async (bytes: Uint8Array) => {
        for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
      };
      const c: FakeConn = {
        index: conns.length,
        frames,
        answering: opts.greet !== false,
        answers: {},
        async send(data) {
          const bytes = data instanceof Uint8Array
            ? data
            : typeof data === "string"
            ? enc.encode(data)
            : encodeFrame(data);
          await writeAll(bytes);
        },
        greet: () => c.send(opts.welcome ?? WELCOME),
        async frame(type, ms = 15_000) {
          const deadline = Date.now() + ms;
          while (true) {
            const hit = frames.find((f) => f.type === type);
            if (hit) return hit;
            if (Date.now() > deadline || closed) {
              throw new Error(
                `fake connection ${c.index}: no ${type} frame; got ` +
                  frames.map((f) => f.type).join(", "),
              );
            }
            await new Promise<void>((r) => {
              frameWake = r;
              setTimeout(r, 100);
            });
          }
        },
        close() {
          if (closed) return;
          closed = true;
          try {
            conn.close();
          } catch { /* closed already */ }
        },
        ended: Promise.resolve(),
      };
      c.ended = (async () => {
        const splitter = new LineSplitter(1 << 20);
        const buf = new Uint8Array(65536);
        const dec = new TextDecoder();
        try {
          while (true) {
            const n = await conn.read(buf);
            if (n === null) break;
            for (const ev of splitter.push(buf.subarray(0, n))) {
              if (ev.kind !== "line") continue;
              const f = JSON.parse(dec.decode(ev.bytes)) as RawFrame;
              frames.push(f);
              frameWake();
              if (c.answering && f.id !== undefined) {
                const instead = c.answers[f.type];
                await c.send(instead ? { ...instead, re: f.id } : answer(f, c, token));
              }
              if (f.type === "session.quit" && c.answering) c.close();
            }
          }
        } catch { /* closed by us, or reset */ }
        c.close();
        frameWake();
      })();
      conns.push(c);
      wake();
      if (opts.greet !== false) c.greet().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    conns,
    /** The i-th connection (0-based), once the client has made it. */
    async conn(i: number, ms = 15_000): Promise<FakeConn> {
      const deadline = Date.now() + ms;
      while (!conns[i]) {
        if (Date.now() > deadline) throw new Error(`the client made no connection #${i}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return conns[i];
    },
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await accepting;
      await Promise.all(conns.map((c) => c.ended));
    },
  };
}

/** Runs fn against a fresh fake server; afterwards kills clients a failed test left running
 *  and closes the server. */
export async function withFake<T>(
  opts: Parameters<typeof fakeServer>[0],
  fn: (fake: ReturnType<typeof fakeServer>) => Promise<T>,
): Promise<T> {
  const fake = fakeServer(opts);
  try {
    return await fn(fake);
  } finally {
    await killLeftovers();
    await fake.close();
  }
}
