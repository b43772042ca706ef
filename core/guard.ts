/**
 * The server's guard against floods and dead peers: connections in total and per address,
 * the login deadline, each connection's frame budget and bad-frame allowance, and the idle
 * sweep (keepalive). Every limit is in protocol/limits.ts; the router takes the frame budget
 * (router.ts `refused`), and ChatServer.error reports violations here.
 */
import { ChatError, type ErrorCode } from "../protocol/errors.ts";
import type { ChatServer } from "./server.ts";
import type { ServerSession } from "./session.ts";
import { say } from "./text_mode.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Refusals between two log lines: a flood of connections must not flood the log too. */
const REFUSALS_PER_LOG_LINE = 100;
/** Sockets beyond maxConnections accepted only to be told TOO_MANY_CONNECTIONS; past that the
 *  server stops accepting until one closes. A refused TLS peer that never handshakes holds its
 *  socket (see ServerSession.closeSocket), so without this bound refusals could use up every
 *  file descriptor. */
export const REFUSING_AT_ONCE = 64;

export class Guard {
  /** Admitted connections per client address (maxConnectionsPerAddress). */
  readonly #perAddress = new Map<string, number>();
  /** Every socket from accept until it is really closed, admitted or not. */
  readonly #sockets = new Set<ServerSession>();
  #admitted = 0;
  /** Wakes the accept loop waiting for a socket to close (roomToAccept). */
  #room: PromiseWithResolvers<void> | undefined;
  #refused = 0;
  #idleTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly server: ChatServer) {}

  /** Starts the idle sweep: every quarter of the (shorter) timeout, so a dead peer is found
   *  within 1.25 times it, with one timer for all connections. */
  start() {
    const { idleTimeoutMs, textIdleTimeoutMs } = this.server.limits;
    const every = Math.min(idleTimeoutMs, textIdleTimeoutMs) / 4;
    this.#idleTimer = setInterval(() => this.#sweepIdle(), every);
  }

  stop() {
    clearInterval(this.#idleTimer);
    this.#room?.resolve();
  }

  /** Sockets open now, admitted or not. */
  get open(): number {
    return this.#sockets.size;
  }

  /** Counts a socket just accepted, until ended(). */
  opened(s: ServerSession) {
    this.#sockets.add(s);
  }

  /** The socket is really closed: frees its place and, if it was admitted, its slot. */
  ended(s: ServerSession) {
    this.#sockets.delete(s);
    clearTimeout(s.loginTimer);
    if (s.address) {
      this.#admitted--;
      const left = (this.#perAddress.get(s.address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(s.address, left);
      else this.#perAddress.delete(s.address);
    }
    this.#room?.resolve();
    this.#room = undefined;
  }

  /** Resolves when the server may accept another socket (at once unless it is full). */
  roomToAccept(): Promise<void> | void {
    if (this.#sockets.size < this.server.limits.maxConnections + REFUSING_AT_ONCE) return;
    return (this.#room ??= Promise.withResolvers()).promise;
  }

  /** Closes every socket, even those mid-handshake: the server is stopping. */
  closeAll() {
    for (const s of this.#sockets) s.closeSocket(true);
  }

  /** Admits a new connection from `address` (counting it and arming its limits), or says why
   *  not (TOO_MANY_CONNECTIONS). */
  admit(s: ServerSession, address: string): string | undefined {
    const { limits, log } = this.server;
    const fromHere = this.#perAddress.get(address) ?? 0;
    const full = this.#admitted >= limits.maxConnections
      ? `the server has its maximum of ${limits.maxConnections} connections`
      : fromHere >= limits.maxConnectionsPerAddress
      ? `${address} has its maximum of ${limits.maxConnectionsPerAddress} connections`
      : undefined;
    if (full) {
      if (this.#refused++ % REFUSALS_PER_LOG_LINE === 0) log.warn(`refusing connections: ${full}`);
      return `${full}; try again later`;
    }
    s.address = address;
    this.#admitted++;
    this.#perAddress.set(address, fromHere + 1);
    s.frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
    s.badFrames = new TokenBucket(limits.maxBadFramesPerMinute / 60, limits.maxBadFramesPerMinute);
    s.loginTimer = setTimeout(() => {
      if (!s.name) this.server.closeLater(s, "LOGIN_TIMEOUT");
    }, limits.loginTimeoutMs);
    return undefined;
  }

  /** Takes a token from the connection's frame budget; when it is empty, the RATE_LIMITED error
   *  to answer, with the time to wait. */
  spend(s: ServerSession): ChatError | undefined {
    const wait = s.frames.take();
    if (wait === 0) return undefined;
    const { framesPerSecond, frameBurst } = this.server.limits;
    const rate = `${framesPerSecond} frames a second after a burst of ${frameBurst}`;
    return new ChatError("RATE_LIMITED", `too many frames (${rate}); try again in ${wait} ms`, {
      retryAfterMs: wait,
      limit: "frames",
    });
  }

  /** Counts a malformed or refused frame; past maxBadFramesPerMinute the connection is closed.
   *  Logged once when it starts and once when it is closed, never per frame. */
  violation(s: ServerSession, code: ErrorCode, message: string) {
    const { limits, log } = this.server;
    const who = `session ${s.id} (${s.name ?? s.remote})`;
    if (s.badFrames.take() > 0) {
      log.warn(`${who}: closed after too many bad frames (last: ${code}: ${message})`);
      return this.server.closeLater(
        s,
        "TOO_MANY_ERRORS",
        `more than ${limits.maxBadFramesPerMinute} malformed or refused frames in a minute`,
      );
    }
    if (!s.badLogged) {
      s.badLogged = true;
      log.info(`${who}: bad frame ${code}: ${message} (further ones are not logged)`);
    }
  }

  /** Pings protocol sessions quiet for half the idle time and closes those silent for all of
   *  it; plain-text sessions (nc cannot answer a ping) are told in a line instead, on their
   *  longer clock. */
  #sweepIdle() {
    const now = performance.now();
    const { idleTimeoutMs, textIdleTimeoutMs } = this.server.limits;
    for (const s of this.server.sessions.all) {
      if (s.closed) continue;
      const text = s.mode === "text";
      const idle = text ? textIdleTimeoutMs : idleTimeoutMs;
      const quiet = now - s.lastHeard;
      if (quiet >= idle) {
        this.server.log.info(`session ${s.id} (${s.name ?? s.remote}): idle for ${idle / 1000} s`);
        this.server.closeLater(s, "IDLE_TIMEOUT", `nothing heard for ${idle / 1000} s`);
      } else if (quiet >= idle / 2 && !s.pinged) {
        s.pinged = true;
        if (!text) this.server.send(s, { type: "session.ping" });
        else say(s, `* idle: type anything within ${Math.round(idle / 2000)} s to stay connected`);
      }
    }
  }
}
