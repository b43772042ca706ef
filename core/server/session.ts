/** Server-side connection state, and the table of logged-in sessions by name. */
import type { RawFrame } from "../../protocol/spec.ts";
import type { Outcome } from "./txn.ts";
import { NAME_ORDER } from "../../protocol/limits.ts";
import type { HandlerCtx, Session, SessionView } from "../../plugins/types.ts";
import { Outbox } from "../outbox.ts";
import { giveBack } from "../buffer_pool.ts";
import type { Conn } from "./conn.ts";
import { TokenBucket } from "../token_bucket.ts";

/** What a session does with each complete, non-empty line of UTF-8 (see lines.ts). */
export type LineHandler = (line: string) => Promise<void> | void;

/** A connection's place in the guard's limits (guard.ts is its only writer). */
export class GuardState {
  /** The client's address key (see addressKey), which per-address limits count by. */
  address = "";
  /** Counted against the connection limits (Guard.admit), or refused and being told why. */
  admitted = false;
  refusing = false;
  /** framesPerSecond/frameBurst, and maxBadFramesPerMinute (set at admission). */
  frames = new TokenBucket(0, 0);
  badFrames = new TokenBucket(0, 0);
  /** Whether a bad frame was logged already: one log line per connection, not per frame. */
  badLogged = false;
  /** performance.now() when a whole line last arrived, and whether a ping went out since. */
  lastHeard = performance.now();
  pinged = false;
  /** Closes the connection if it has not logged in in time. */
  loginTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Pipelined requests waiting for their answers, oldest first (an answer goes out once every
 *  one before it has), and who waits for the queue to shrink or empty (see lines.ts). */
export interface Pipeline {
  waiting: Array<{ frame: RawFrame; out: Outcome | undefined }>;
  /** The read loop, waiting for room below PIPELINE_DEPTH. */
  room: PromiseWithResolvers<void> | undefined;
  /** A frame that is not pipelined, waiting for every answer before it. */
  drained: PromiseWithResolvers<void> | undefined;
}

export class ServerSession implements Session {
  name: string | undefined;
  mode: "json" | "text" = "json";
  /** The client reads binary frames (it said so at login): bytes go to it unencoded. */
  binary = false;
  /** Handles each complete line, chosen by the first non-empty one (lines.ts): JSON or
   *  plain text, once per session. */
  onLine: LineHandler | undefined;
  /** Set by session.quit (core_frames.ts): close once the ack has been queued. */
  quitting = false;
  /** Set when the session is closed (Hub.closeSession); nothing is sent after it. */
  closed = false;
  /** Set once the read loop runs (read_loop.ts): only then can a closed session linger. */
  reading = false;
  /** Closes the socket after a half-close if the peer does not (Hub.closeSession). */
  lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves once the socket is closed: until then it counts against the limits. */
  readonly socketClosed = Promise.withResolvers<void>();
  /** The guard's accounting of this connection: written by guard.ts only. */
  readonly guard = new GuardState();
  /** The handler context for this session, made once (dispatch.ts). */
  ctx: HandlerCtx | undefined;
  /** Answers of pipelined requests still waiting: written by lines.ts only. */
  readonly pipeline: Pipeline = { waiting: [], room: undefined, drained: undefined };
  /** Per-plugin state created by ServerApi.sessionState. */
  readonly state = new Map<object, unknown>();
  readonly outbox: Outbox;

  constructor(
    readonly id: number,
    readonly remote: string,
    readonly conn: Conn,
    sendQueueBytes: number,
    onOverflow: () => void,
    onWriteError: (e: unknown) => void,
  ) {
    this.outbox = new Outbox(conn, sendQueueBytes, onOverflow, onWriteError, giveBack);
  }

  /** Whether the first line has chosen the mode (see onLine). */
  get modeChosen(): boolean {
    return this.onLine !== undefined;
  }

  /** Closes the socket, ending any linger (see Hub.closeSession); again is harmless. */
  closeSocket(): void {
    clearTimeout(this.lingerTimer);
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.socketClosed.resolve();
  }
}

export class SessionTable implements SessionView {
  /** Keyed by the lower-cased name: names are unique case-insensitively. */
  readonly #byName = new Map<string, ServerSession>();
  readonly all = new Set<ServerSession>();
  /** The other nodes' sessions, in a cluster. */
  elsewhere: { remoteNames(): string[]; nodeOf(name: string): string | undefined } | undefined;

  everyone(): string[] {
    const names = [...this.#byName.values()].map((s) => s.name!);
    for (const n of this.elsewhere?.remoteNames() ?? []) {
      if (!this.#byName.has(n.toLowerCase())) names.push(n);
    }
    return names.sort((a, b) => NAME_ORDER.compare(a, b));
  }

  online(name: string): boolean {
    return this.#byName.has(name.toLowerCase()) || this.elsewhere?.nodeOf(name) !== undefined;
  }

  remoteNode(name: string): string | undefined {
    return this.#byName.has(name.toLowerCase()) ? undefined : this.elsewhere?.nodeOf(name);
  }

  get(name: string): ServerSession | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  names(): string[] {
    return [...this.#byName.values()].map((s) => s.name!).sort((a, b) => NAME_ORDER.compare(a, b));
  }

  get count(): number {
    return this.#byName.size;
  }

  /** Claims a name; false if someone holds it. No await between check and set. */
  claim(s: ServerSession, name: string): boolean {
    const key = name.toLowerCase();
    if (this.#byName.has(key)) return false;
    this.#byName.set(key, s);
    s.name = name;
    return true;
  }

  release(s: ServerSession): boolean {
    if (s.name === undefined || this.#byName.get(s.name.toLowerCase()) !== s) return false;
    this.#byName.delete(s.name.toLowerCase());
    return true;
  }

  loggedIn(): IterableIterator<ServerSession> {
    return this.#byName.values();
  }
}
