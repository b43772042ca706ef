/**
 * The soak workload's client: one user living a long session at a human pace. Every ~2 s on
 * average (a Poisson process from its own seeded generator) it sends a direct message to
 * another client, posts to one of its rooms, or asks something cheap; now and then it leaves
 * (session.quit, or just closing the connection), stays away a while and comes back, with its
 * resume token or its password. The connection and the bookkeeping of what it reads are
 * SoakSession's (soak_session.ts); this file holds the behaviour and what the clients share.
 */
import {
  type Frame,
  type Kind,
  LoginRefused,
  type SessionWorld,
  SoakSession,
} from "./soak_session.ts";

/** Mean time between a client's actions: a person chatting, not a script. */
export const MEAN_GAP_MS = 2000;
/** No two actions closer than this (the exponential gap is occasionally near zero). */
const MIN_GAP_MS = 20;
/** Mean time between a client's departures; each action is one with MEAN_GAP / this chance. */
export const MEAN_CHURN_MS = 120_000;
const CHURN_PER_ACTION = MEAN_GAP_MS / MEAN_CHURN_MS;
/** How long a client that left stays away: long enough for messages to wait for it. */
export const AWAY_MS: [number, number] = [5000, 30_000];
/** How long a client the server dropped waits before coming back. */
const DROPPED_AWAY_MS: [number, number] = [1000, 3000];
/** Share of departures that just close the connection (a lid shut) instead of quitting, and
 *  of returns that present the resume token instead of the password (scrypt). */
const ABRUPT_SHARE = 0.5;
const RESUME_SHARE = 0.5;
/** The action mix, as cumulative shares; the rest are session.ping requests. */
const DM_SHARE = 0.7;
const POST_SHARE = 0.15;
const WHO_SHARE = 0.05;
const MEMBERS_SHARE = 0.05;
/** A departure first waits this long at most for its requests' answers. */
const LEAVE_WAIT_MS = 10_000;
/** How long the server may take to close the connection after session.quit. */
const QUIT_WAIT_MS = 10_000;
/** Logins refused with these codes are tried again (NAME_IN_USE: the server has not yet seen
 *  the old connection close; BAD_TOKEN: then with the password), up to LOGIN_ATTEMPTS. */
const RETRY_CODES = new Set(["NAME_IN_USE", "BAD_TOKEN"]);
const LOGIN_ATTEMPTS = 5;

/** What a soak client shares with the others and the workload: what its session uses, and
 *  the other clients (to write to). */
export interface SoakWorld extends SessionWorld {
  readonly peers: SoakPeer[];
}

export class SoakPeer extends SoakSession<SoakWorld> {
  /** Rooms this client is in (set before the traffic starts). */
  rooms: string[] = [];

  /** The client's life until the traffic ends, then back online for the drain. */
  async live(): Promise<void> {
    const { traffic } = this.w;
    while (!traffic.stopped) {
      if (this.state === "offline") {
        // Dropped by the server (already counted): come back after a moment.
        await traffic.pause(this.rng.between(...DROPPED_AWAY_MS));
        if (!traffic.stopped) await this.reconnect();
        continue;
      }
      await traffic.pause(Math.max(MIN_GAP_MS, this.rng.exp(MEAN_GAP_MS)));
      if (traffic.stopped || this.state !== "online") continue;
      if (this.rng.next() < CHURN_PER_ACTION) {
        await this.leave();
        await traffic.pause(this.rng.between(...AWAY_MS));
        if (!traffic.stopped) await this.reconnect();
      } else {
        this.#act();
      }
    }
    // Everyone comes back for the drain: what was stored for them must reach them.
    if (this.state !== "online") await this.reconnect();
  }

  /** Logs in again, half the time with the resume token; retries a few refusals. */
  async reconnect(): Promise<void> {
    const { counts } = this.w;
    for (let attempt = 1;; attempt++) {
      if (this.w.failed) return;
      const resume = this.token !== undefined && this.rng.next() < RESUME_SHARE;
      try {
        await this.connect(resume ? "resume" : "password");
        counts.reconnects++;
        if (resume) counts.resumes++;
        else counts.passwordLogins++;
        return;
      } catch (e) {
        if (!(e instanceof LoginRefused) || !RETRY_CODES.has(e.code)) throw e;
        if (attempt >= LOGIN_ATTEMPTS) throw e;
        counts.loginRetries++;
        if (e.code === "BAD_TOKEN") this.token = undefined;
        await sleep(this.rng.between(1000, 2000));
      }
    }
  }

  /** Leaves once its requests are answered: session.ack and session.quit, or a plain close. */
  async leave(): Promise<void> {
    const until = performance.now() + LEAVE_WAIT_MS;
    while (this.inflight > 0 && this.state === "online" && performance.now() < until) {
      await sleep(50);
    }
    const client = this.client;
    if (this.state !== "online" || !client) return;
    const { counts } = this.w;
    this.state = "leaving";
    if (this.inflight === 0 && this.rng.next() < ABRUPT_SHARE) {
      counts.abruptCloses++;
      client.close();
    } else {
      counts.cleanQuits++;
      if (!(await client.write(this.quitFrames()))) client.close();
    }
    // The server closes the connection after answering the quit; a stuck one is closed here.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      client.done.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), QUIT_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (!closed) {
      this.w.errors.add("BENCH_QUIT_NOT_CLOSED");
      client.close();
    }
    this.state = "offline";
  }

  #act(): void {
    const { w, rng } = this;
    const r = rng.next();
    let kind: Kind;
    let body: Frame;
    let msgId = 0;
    if (r < DM_SHARE) {
      const i = rng.int(w.peers.length - 1);
      const to = w.peers[i >= this.index ? i + 1 : i];
      kind = "dm";
      msgId = w.ledger.newId();
      body = { type: "dm.send", receiver: to.name, text: this.#text(msgId) };
      w.counts.dmSent++;
    } else if (r < DM_SHARE + POST_SHARE) {
      kind = "post";
      msgId = w.ledger.newId();
      body = { type: "groups.send", room: this.#room(), text: this.#text(msgId) };
      w.counts.postSent++;
    } else if (r < DM_SHARE + POST_SHARE + WHO_SHARE) {
      kind = "who";
      body = { type: "presence.who" };
      w.counts.otherSent++;
    } else if (r < DM_SHARE + POST_SHARE + WHO_SHARE + MEMBERS_SHARE) {
      kind = "members";
      body = { type: "groups.members", room: this.#room() };
      w.counts.otherSent++;
    } else {
      kind = "ping";
      body = { type: "session.ping" };
      w.counts.otherSent++;
    }
    this.request(kind, msgId, body);
  }

  #room(): string {
    return this.rooms[this.rng.int(this.rooms.length)];
  }

  #text(msgId: number): string {
    return `${msgId}:${Math.round(performance.now() * 1000)}`.padEnd(this.w.textBytes, "x");
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
