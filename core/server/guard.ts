/**
 * The server's guard against floods and dead peers: connections in total and per address,
 * the login deadline, each connection's frame budget and bad-frame allowance, and the idle
 * sweep (keepalive). Every limit is in protocol/limits.ts; the router takes the frame budget
 * (router.ts `refused`), and ChatServer.error reports violations here.
 */
import { ChatError, type ErrorCode } from "../../protocol/errors.ts";
import type { Limits } from "../../protocol/limits.ts";
import type { LogoutReason } from "../../plugins/types.ts";
import type { Logger } from "../log.ts";
import type { ServerSession } from "./session.ts";
import { say } from "./text_render.ts";
import { TokenBucket } from "../token_bucket.ts";
import { addressKey } from "./conn.ts";

/** Refusals (and handshake failures) between two log lines: a flood of connections must not
 *  flood the log too. */
const REFUSALS_PER_LOG_LINE = 100;
/** Refused connections told why (TOO_MANY_CONNECTIONS) at one time, from all addresses; past
 *  it a refused socket is closed at once, without a word. Telling costs a TLS handshake and a
 *  flush (bounded by handshakeTimeoutMs and the flush timeout), so it is kept to a few. */
export const REFUSING_AT_ONCE = 64;
/** The same from one address (see addressKey): one address's flood cannot take the places
 *  in which other addresses are told, and each of its refused sockets beyond these two is
 *  closed the moment it is accepted. */
export const REFUSING_PER_ADDRESS = 2;
/** The smallest burst of new connections from one address, however low
 *  maxConnectionsPerAddress is set: reconnecting after a drop, with a phone and a laptop, must
 *  not be mistaken for a flood (the count limit still holds). */
const MIN_ARRIVAL_BURST = 50;
/** Addresses whose arrival rate is remembered; the least recently seen are forgotten first (a
 *  forgotten one starts again with a full burst). Bounds memory against a flood from many. */
const MAX_RATED_ADDRESSES = 100_000;
/** Addresses whose first-contact trust check was logged (see #handshakeFailed); forgotten all
 *  at once past this many, so a long-running server logs such a client again, rarely. */
const TRUST_LOGGED_MAX = 10_000;

/** What the guard needs of the server (the Hub, which owns the guard). */
export interface GuardHost {
  readonly limits: Readonly<Limits>;
  readonly sessions: { readonly all: ReadonlySet<ServerSession> };
  readonly log: Logger;
  closeLater(s: ServerSession, reason: LogoutReason, message?: string): void;
  send(s: ServerSession, frame: Record<string, unknown>): boolean;
}

export class Guard {
  /** Admitted connections per client address key (maxConnectionsPerAddress). */
  readonly #perAddress = new Map<string, number>();
  /** Recent arrivals per address key (connectionsPerAddressPerMinute). */
  readonly #arrivals = new Map<string, TokenBucket>();
  /** Refused connections still being told why, per address key. */
  readonly #refusingFrom = new Map<string, number>();
  /** Every socket from accept until it is closed, admitted or not. */
  readonly #sockets = new Set<ServerSession>();
  #admitted = 0;
  #refusing = 0;
  #refused = 0;
  #handshakesLost = 0;
  readonly #trustLogged = new Set<string>();
  #idleTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly server: GuardHost) {}

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

  /** Sockets open now, admitted or not. */
  get open(): number {
    return this.#sockets.size;
  }

  /** Counts a socket just accepted, until ended(). */
  opened(s: ServerSession) {
    this.#sockets.add(s);
  }

  /** Arms a TLS connection's handshake deadline (handshakeTimeoutMs): a socket that has not
   *  finished it by then is closed, freeing its slot. */
  handshaking(s: ServerSession, handshake: Promise<void>) {
    const { limits, log } = this.server;
    const timer = setTimeout(() => {
      if (this.#handshakesLost++ % REFUSALS_PER_LOG_LINE === 0) {
        log.info(
          `${s.remote}: no TLS handshake within ${limits.handshakeTimeoutMs / 1000} s; closed` +
            ` (${this.#handshakesLost} so far)`,
        );
      }
      s.closeSocket();
    }, limits.handshakeTimeoutMs);
    handshake.then(() => clearTimeout(timer), (e) => {
      clearTimeout(timer);
      this.#handshakeFailed(s, e);
      s.closeSocket();
    });
  }

  /** The socket is closed: frees its place and, if it was admitted, its slot. */
  ended(s: ServerSession) {
    this.#sockets.delete(s);
    clearTimeout(s.guard.loginTimer);
    if (s.guard.admitted) {
      s.guard.admitted = false;
      this.#admitted--;
      decrement(this.#perAddress, s.guard.address);
    }
    if (s.guard.refusing) {
      s.guard.refusing = false;
      this.#refusing--;
      decrement(this.#refusingFrom, s.guard.address);
    }
  }

  /** Closes every socket, even those mid-handshake: the server is stopping. */
  closeAll() {
    for (const s of this.#sockets) s.closeSocket();
  }

  /** Admits a new connection from `hostname` (counting it and arming its limits), or refuses
   *  it: with the reason to tell it (TOO_MANY_CONNECTIONS), or "closed" when too many refused
   *  connections are being told already (overall or from its address) and it was closed at
   *  once. A refused connection never counts against anyone's limits. */
  admit(s: ServerSession, hostname: string): string | "closed" | undefined {
    const { limits, log } = this.server;
    const key = s.guard.address = addressKey(hostname);
    const fromHere = this.#perAddress.get(key) ?? 0;
    // Every arrival takes a token, refused or not: a refused TLS socket costs memory too.
    const tooFast = this.#arrival(key) > 0;
    const full = tooFast
      ? `${key} opens more than ${limits.connectionsPerAddressPerMinute} connections a minute`
      : this.#admitted >= limits.maxConnections
      ? `the server has its maximum of ${limits.maxConnections} connections`
      : fromHere >= limits.maxConnectionsPerAddress
      ? `${key} has its maximum of ${limits.maxConnectionsPerAddress} connections`
      : undefined;
    if (full) {
      if (this.#refused++ % REFUSALS_PER_LOG_LINE === 0) {
        log.warn(`refusing connections: ${full} (${this.#refused} refused so far)`);
      }
      const telling = this.#refusingFrom.get(key) ?? 0;
      if (this.#refusing >= REFUSING_AT_ONCE || telling >= REFUSING_PER_ADDRESS) {
        s.closeSocket();
        return "closed";
      }
      s.guard.refusing = true;
      this.#refusing++;
      this.#refusingFrom.set(key, telling + 1);
      return `${full}; try again later`;
    }
    s.guard.admitted = true;
    this.#admitted++;
    this.#perAddress.set(key, fromHere + 1);
    s.guard.frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
    s.guard.badFrames = new TokenBucket(
      limits.maxBadFramesPerMinute / 60,
      limits.maxBadFramesPerMinute,
    );
    s.guard.loginTimer = setTimeout(() => {
      if (!s.name) this.server.closeLater(s, "LOGIN_TIMEOUT");
    }, limits.loginTimeoutMs);
    return undefined;
  }

  /** Takes a token from `key`'s arrival bucket (connectionsPerAddressPerMinute, a burst of
   *  maxConnectionsPerAddress, at least MIN_ARRIVAL_BURST): 0 if there was one. A full bucket is the same as none, so the
   *  map forgets the least recently seen address past MAX_RATED_ADDRESSES. */
  #arrival(key: string): number {
    const { connectionsPerAddressPerMinute, maxConnectionsPerAddress } = this.server.limits;
    const burst = Math.max(maxConnectionsPerAddress, MIN_ARRIVAL_BURST);
    const bucket = this.#arrivals.get(key) ??
      new TokenBucket(connectionsPerAddressPerMinute / 60, burst);
    this.#arrivals.delete(key); // re-inserted: the map stays in order of last arrival
    this.#arrivals.set(key, bucket);
    if (this.#arrivals.size > MAX_RATED_ADDRESSES) {
      this.#arrivals.delete(this.#arrivals.keys().next().value!);
    }
    return bucket.take();
  }

  /** One log line for a failed TLS handshake. A client refusing our self-signed certificate is
   *  a student's first contact, not a failure: its person is being shown the fingerprint to
   *  compare. That is logged once per address, at info. */
  #handshakeFailed(s: ServerSession, e: unknown) {
    const { log } = this.server;
    const why = e instanceof Error ? e.message : String(e);
    if (/UnknownCA|BadCertificate|CertificateUnknown|unknown ca|certificate unknown/i.test(why)) {
      if (this.#trustLogged.has(s.guard.address)) return;
      if (this.#trustLogged.size >= TRUST_LOGGED_MAX) this.#trustLogged.clear();
      this.#trustLogged.add(s.guard.address);
      return log.info(
        `${s.remote}: the client does not trust this server's certificate yet (first contact:` +
          " its user is shown the fingerprint to compare with yours)",
      );
    }
    if (/before the TLS handshake finished/.test(why)) return; // a port check, or a probe
    if (this.#handshakesLost++ % REFUSALS_PER_LOG_LINE === 0) {
      log.info(`${s.remote}: TLS handshake failed: ${why}`);
    }
  }

  /** A whole line arrived: the peer is alive (lines that never end keep nothing alive). */
  heard(s: ServerSession) {
    s.guard.lastHeard = performance.now();
    s.guard.pinged = false;
  }

  /** The session logged in: its login deadline is met (the timer and what it holds go now,
   *  not when it would have fired). */
  loggedIn(s: ServerSession) {
    clearTimeout(s.guard.loginTimer);
    s.guard.loginTimer = undefined;
  }

  /** The session is closing: its login deadline no longer applies. */
  closing(s: ServerSession) {
    clearTimeout(s.guard.loginTimer);
  }

  /** Takes a token from the connection's frame budget; when it is empty, the RATE_LIMITED error
   *  to answer, with the time to wait. */
  spend(s: ServerSession): ChatError | undefined {
    const wait = s.guard.frames.take();
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
    if (s.guard.badFrames.take() > 0) {
      log.warn(`${who}: closed after too many bad frames (last: ${code}: ${message})`);
      return this.server.closeLater(
        s,
        "TOO_MANY_ERRORS",
        `more than ${limits.maxBadFramesPerMinute} malformed or refused frames in a minute`,
      );
    }
    if (!s.guard.badLogged) {
      s.guard.badLogged = true;
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
      const quiet = now - s.guard.lastHeard;
      if (quiet >= idle) {
        this.server.log.info(`session ${s.id} (${s.name ?? s.remote}): idle for ${idle / 1000} s`);
        this.server.closeLater(s, "IDLE_TIMEOUT", `nothing heard for ${idle / 1000} s`);
      } else if (quiet >= idle / 2 && !s.guard.pinged) {
        s.guard.pinged = true;
        if (!text) this.server.send(s, { type: "session.ping" });
        else say(s, `* idle: type anything within ${Math.round(idle / 2000)} s to stay connected`);
      }
    }
  }
}

function decrement(counts: Map<string, number>, key: string) {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}
