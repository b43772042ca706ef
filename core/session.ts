/** Server-side connection state, and the table of logged-in sessions by name. */
import { NAME_ORDER } from "../protocol/limits.ts";
import type { HandlerCtx, Session, SessionView } from "../plugins/types.ts";
import { Outbox } from "./outbox.ts";
import { TokenBucket } from "./token_bucket.ts";

export class ServerSession implements Session {
  name: string | undefined;
  mode: "json" | "text" = "json";
  /** Set once the mode is known (first non-empty line decides). */
  modeChosen = false;
  /** Set by session.quit: close once the ack has been queued. */
  quitting = false;
  closed = false;
  /** Set once the read loop runs: only then can a closed session linger (closeSession). */
  reading = false;
  /** Closes the socket after a half-close if the peer does not (see ChatServer.closeSession). */
  lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Closes the connection if it has not logged in in time (cleared at close). */
  loginTimer: ReturnType<typeof setTimeout> | undefined;
  /** The client address, counted against maxConnectionsPerAddress while the socket is open;
   *  empty if the connection was refused. */
  address = "";
  /** A TLS handshake not yet finished (see closeSocket). */
  handshaking: Promise<void> | undefined;
  /** Resolves once the socket is really closed: until then it counts against the limits. */
  readonly socketClosed = Promise.withResolvers<void>();
  /** framesPerSecond/frameBurst, and maxBadFramesPerMinute (set by the server at accept). */
  frames = new TokenBucket(0, 0);
  badFrames = new TokenBucket(0, 0);
  /** Whether a bad frame was logged already: one log line per connection, not per frame. */
  badLogged = false;
  /** performance.now() when bytes last arrived, and whether a ping went out since (idle). */
  lastHeard = performance.now();
  pinged = false;
  /** The handler context for this session, made once (see plugin_host.ts). */
  ctx: HandlerCtx | undefined;
  /** The answer of the last pipelined request still waiting (see router.ts), and how many
   *  are waiting. */
  pipeline: Promise<void> | undefined;
  pipelineDepth = 0;
  /** Per-plugin state created by ServerApi.sessionState. */
  readonly state = new Map<object, unknown>();
  readonly outbox: Outbox;

  constructor(
    readonly id: number,
    readonly remote: string,
    readonly conn: Deno.Conn,
    sendQueueBytes: number,
    onOverflow: () => void,
    onWriteError: (e: unknown) => void,
  ) {
    this.outbox = new Outbox(conn, sendQueueBytes, onOverflow, onWriteError);
  }

  /** Closes the socket, once, ending any linger (see ChatServer.closeSession). Deno cannot
   *  free a TLS socket whose handshake is still pending: closing it then leaves the socket
   *  open, uncounted, until the peer sends or hangs up. So unless `force`d (the server is
   *  stopping) the close waits for the handshake to end, and the connection keeps counting
   *  against the connection limits meanwhile. */
  closeSocket(force = false): void {
    clearTimeout(this.lingerTimer);
    if (this.handshaking && !force) {
      this.handshaking.then(() => this.closeSocket(true));
      return;
    }
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
