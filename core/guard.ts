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

export class Guard {
  /** Open connections per client address (maxConnectionsPerAddress). */
  readonly #perAddress = new Map<string, number>();
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
