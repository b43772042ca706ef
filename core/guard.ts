/**
 * The server's guard against floods and dead peers: connections in total and per address,
 * the login deadline, each connection's frame budget and bad-frame allowance, and the idle
 * sweep (keepalive). Every limit is in protocol/limits.ts; the router takes the frame budget
 * (router.ts `refused`), and ChatServer.error reports violations here.
 */
import type { ErrorCode } from "../protocol/errors.ts";
import type { ChatServer } from "./server.ts";
import type { ServerSession } from "./session.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Refusals between two log lines: a flood of connections must not flood the log too. */
const REFUSALS_PER_LOG_LINE = 100;

export class Guard {
  /** Open connections per client address (maxConnectionsPerAddress). */
  readonly #perAddress = new Map<string, number>();
  #refused = 0;
  #idleTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly server: ChatServer) {}

  /** Starts the idle sweep: every quarter of the timeout, so a dead peer is found within
   *  1.25 times it, with one timer for all connections. */
  start() {
    const every = this.server.limits.idleTimeoutMs / 4;
    this.#idleTimer = setInterval(() => this.#sweepIdle(), every);
  }

  stop() {
    clearInterval(this.#idleTimer);
  }

  /** Admits a new connection from `address` (counting it and arming its limits), or says why
   *  not (TOO_MANY_CONNECTIONS). */
  admit(s: ServerSession, address: string): string | undefined {
    const { limits, log } = this.server;
    const fromHere = this.#perAddress.get(address) ?? 0;
    const full = this.server.sessions.all.size >= limits.maxConnections
      ? `the server has its maximum of ${limits.maxConnections} connections`
      : fromHere >= limits.maxConnectionsPerAddress
      ? `${address} has its maximum of ${limits.maxConnectionsPerAddress} connections`
      : undefined;
    if (full) {
      if (this.#refused++ % REFUSALS_PER_LOG_LINE === 0) log.warn(`refusing connections: ${full}`);
      return `${full}; try again later`;
    }
    s.address = address;
    this.#perAddress.set(address, fromHere + 1);
    s.frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
    s.badFrames = new TokenBucket(limits.maxBadFramesPerMinute / 60, limits.maxBadFramesPerMinute);
    s.loginTimer = setTimeout(() => {
      if (!s.name) this.server.closeLater(s, "LOGIN_TIMEOUT");
    }, limits.loginTimeoutMs);
    return undefined;
  }

  /** Frees an admitted connection's slot. */
  release(s: ServerSession) {
    clearTimeout(s.loginTimer);
    const left = (this.#perAddress.get(s.address) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(s.address, left);
    else this.#perAddress.delete(s.address);
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

  /** Pings protocol sessions quiet for half the idle time; closes those silent for all of it.
   *  Plain-text sessions are skipped: nc cannot answer a ping. */
  #sweepIdle() {
    const now = performance.now();
    const idle = this.server.limits.idleTimeoutMs;
    for (const s of this.server.sessions.all) {
      if (s.mode === "text" || s.closed) continue;
      const quiet = now - s.lastHeard;
      if (quiet >= idle) {
        this.server.log.info(`session ${s.id} (${s.name ?? s.remote}): idle for ${idle / 1000} s`);
        this.server.closeLater(s, "IDLE_TIMEOUT", `nothing heard for ${idle / 1000} s`);
      } else if (quiet >= idle / 2 && !s.pinged) {
        s.pinged = true;
        this.server.send(s, { type: "session.ping" });
      }
    }
  }
}
