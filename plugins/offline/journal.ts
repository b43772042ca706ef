/**
 * The journal: the server's message log. Accepted messages are appended in batches (group
 * commit: one transaction, so one fsync, for everything that arrived in the same turn of the
 * event loop), and only once the batch is on disk are they pushed to the recipients online and
 * acked to their senders. A session that logs in first catches up from its account's cursor;
 * live messages reach it only after that, so it sees one stream in seq order.
 *
 * Appends, catch-up steps and cursor moves take turns under one lock (#exclusive): a message
 * is either already in the log when a catch-up step reads it, or pushed live after the step
 * that ended the catch-up, never both or neither.
 */
import type { RawFrame } from "../../protocol/spec.ts";
import {
  type Journal,
  Mutex,
  type PostResult,
  ROOM_CONVERSATION,
  type ServerApi,
  type Session,
} from "../types.ts";
import { OfflineSummary } from "./protocol.ts";
import * as store from "./store.ts";
import { Spans } from "./spans.ts";

/** In a cluster, how long a gap in the log's order may last before this node reads the store
 *  for what it did not hear (a node that died between its commit and its publish). */
const GAP_MS = 500;

/** The largest bus message the log sends: NATS refuses payloads over its max_payload (1 MiB
 *  by default); JSON escaping can double a frame's size. */
const PUBLISH_BYTES = 256 * 1024;

/** In a cluster, how often a node compares the log's top with what it has pushed: a message
 *  whose node died before telling anyone, with nothing posted after it, is found so. */
const GAP_CHECK_MS = 2000;

/** A committed message as nodes tell each other (bus topic offline.log): its seq, the seq of
 *  the message before it in the log, and who it is for. */
interface Logged {
  seq: number;
  prev: number;
  names: string[];
  json: string;
}

/** How soon a catch-up that failed (the store was unreachable) is tried again. */
const CATCH_UP_RETRY_MS = 1000;

/** Missed messages read per catch-up step. 500 rows is about 100 KB of typical chat: 10,000
 *  missed messages take 20 steps, each a short pause for everyone else. */
const STEP_ROWS = 500;

interface Delivery {
  /** True from login until the catch-up has sent everything: live messages wait. */
  catchingUp: boolean;
  /** Highest seq pushed to this session, and highest it acknowledged. */
  sent: number;
  acked: number;
  /** Messages up to this seq were sent while the session was away ("missed"). */
  until: number;
}

interface Pending {
  entry: store.Entry;
  frame: RawFrame;
  names: string[];
  resolve(r: PostResult): void;
  reject(e: unknown): void;
}

export class MessageLog implements Journal {
  #pending: Pending[] = [];
  /** Cursor moves waiting for the next commit, by lower-cased account. */
  #cursors = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #exclusive = new Mutex();
  #lastSeq = 0;
  /** The highest seq pushed here in the log's order; messages that arrive before the one
   *  they follow wait in #early, by the seq they follow. */
  #applied = 0;
  readonly #early = new Map<number, Logged>();
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  #checker: ReturnType<typeof setInterval> | undefined;
  readonly #spans = new Spans();
  readonly #state: (s: Session) => Delivery;

  constructor(private readonly api: ServerApi) {
    this.#state = api.sessionState<Delivery>(() => ({
      catchingUp: false,
      sent: 0,
      acked: 0,
      until: 0,
    }));
  }

  async open(): Promise<void> {
    this.#lastSeq = this.#applied = await store.maxSeq(this.api.db);
    await this.#spans.load(this.api.db);
    // What other nodes committed: pushed here in the log's order, under the same lock as the
    // catch-ups, so a session catching up gets each message once, from the log or live.
    this.api.bus.subscribe("log", (m) => {
      this.#exclusive.run(() => this.#arrive((m as { entries: Logged[] }).entries))
        .catch((e) => this.api.log.error(`message from another node: ${e}`));
    });
    if (this.api.bus.clustered) {
      // A message committed a check ago and still not pushed is a gap nobody will fill by
      // telling: read it from the store.
      let seen = 0;
      this.#checker = setInterval(() => {
        this.#exclusive.run(async () => {
          const top = await store.maxSeq(this.api.db);
          if (seen > this.#applied) await this.#fillGap(true);
          seen = top;
        }).catch((e) => this.api.log.error(`checking the log for gaps: ${e}`));
      }, GAP_CHECK_MS);
    }
  }

  append(m: { conv: string; sender: string; to: string[]; frame: RawFrame }) {
    return new Promise<PostResult>((resolve, reject) => {
      const ts = typeof m.frame.ts === "number" ? m.frame.ts : Date.now();
      this.#pending.push({
        entry: {
          conv: m.conv,
          sender: m.sender,
          ts,
          to: m.to.map((n) => n.toLowerCase()),
          json: JSON.stringify(m.frame),
        },
        frame: m.frame,
        names: m.to,
        resolve,
        reject,
      });
      this.#schedule();
    });
  }

  ack(s: Session, upTo: number): void {
    const st = this.#state(s);
    // Nothing beyond what this session was sent can have been shown.
    const seq = Math.min(Math.floor(upTo), st.sent);
    if (seq <= st.acked) return;
    st.acked = seq;
    this.#cursors.set(s.name!.toLowerCase(), seq);
    this.#schedule();
  }

  /** Starts a freshly logged-in session's catch-up (called from onLogin: synchronously, so
   *  no live message slips past before catchingUp is set). */
  login(s: Session): void {
    this.#state(s).catchingUp = true;
    const attempt = () =>
      this.#catchUp(s).catch((e) => {
        // The store failed (lost for a while): live messages wait for this session until a
        // catch-up succeeds, so it is tried again while the session is there.
        this.api.log.error(`catch-up for ${s.name} failed (trying again): ${e}`);
        if (this.api.sessions.get(s.name!) === s) setTimeout(attempt, CATCH_UP_RETRY_MS);
      });
    attempt();
  }

  /** Commits what is waiting; for shutdown. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    clearTimeout(this.#gapTimer);
    clearInterval(this.#checker);
    this.#timer = undefined;
    await this.#exclusive.run(() => this.#flush());
  }

  #schedule() {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#exclusive.run(() => this.#flush()).catch((e) =>
        this.api.log.error(`message log commit failed: ${e}`)
      );
    }, 0);
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    const cursors = this.#cursors;
    this.#pending = [];
    this.#cursors = new Map();
    if (batch.length === 0 && cursors.size === 0) return;
    let done: { seqs: number[]; prev: number };
    try {
      done = await store.append(
        this.api.db,
        this.#spans,
        batch.map((p) => p.entry),
        cursors,
        this.api.bus.clustered,
      );
    } catch (e) {
      // Not on disk, so not accepted: every sender in the batch gets an error.
      for (const p of batch) p.reject(e);
      throw e;
    }
    const { seqs, prev } = done;
    const logged = batch.map((p, i): Logged => ({
      seq: seqs[i],
      prev: i === 0 ? prev : seqs[i - 1],
      names: p.names,
      json: p.entry.json,
    }));
    this.#publish(logged);
    batch.forEach((p, i) => p.resolve(this.#result(p.names, seqs[i])));
    this.#arrive(logged, batch.map((p) => p.frame));
  }

  /** Tells the other nodes, in messages of at most PUBLISH_BYTES (NATS refuses larger ones).
   *  After the commit, so never a throw: what a node does not hear it reads from the store
   *  (a gap, or the periodic check). */
  #publish(logged: Logged[]): void {
    if (!this.api.bus.clustered || logged.length === 0) return;
    let part: Logged[] = [];
    let bytes = 0;
    const send = () => {
      try {
        this.api.bus.publish("log", { entries: part });
      } catch (e) {
        this.api.log.error(`telling the other nodes of ${part.length} messages: ${e}`);
      }
      part = [];
      bytes = 0;
    };
    for (const e of logged) {
      const size = e.json.length * 2 + e.names.join(",").length + 64;
      if (part.length && bytes + size > PUBLISH_BYTES) send();
      part.push(e);
      bytes += size;
    }
    send();
  }

  /** Who got a message now (online here or on another node) and who gets it at login. */
  #result(names: string[], seq: number): PostResult {
    const result: PostResult = { seq, sent: [], stored: [], offline: [] };
    for (const name of names) {
      const s = this.api.sessions.get(name);
      if (s) result.sent.push(s.name!);
      else if (this.api.sessions.online(name)) result.sent.push(name);
      else result.stored.push(name);
    }
    return result;
  }

  /** Committed messages, this node's or another's, pushed in the log's order: each waits for
   *  the one it follows. A gap that lasts GAP_MS is filled from the store (#fillGap). */
  #arrive(entries: Logged[], frames?: RawFrame[]): void {
    entries.forEach((e, i) => {
      // A message that follows one older than the last applied (retention pruned the log
      // empty, so it followed "nothing") comes next.
      const after = Math.max(e.prev, Math.min(this.#applied, e.seq - 1));
      if (e.seq > this.#applied) {
        this.#early.set(after, { ...e, ...(frames ? { frame: frames[i] } : {}) });
      }
    });
    for (let e = this.#early.get(this.#applied); e; e = this.#early.get(this.#applied)) {
      this.#early.delete(this.#applied);
      this.#push(e);
      this.#applied = e.seq;
    }
    if (this.#early.size === 0) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = undefined;
      return;
    }
    this.#gapTimer ??= setTimeout(() => {
      this.#gapTimer = undefined;
      this.#exclusive.run(() => this.#fillGap())
        .catch((e) => this.api.log.error(`reading the log after a gap: ${e}`));
    }, GAP_MS);
  }

  /** Pushes one committed message to its recipients here who are caught up and were not sent
   *  it already (a catch-up or a gap's read may have). */
  #push(e: Logged & { frame?: RawFrame }): void {
    if (e.seq > this.#lastSeq) this.#lastSeq = e.seq;
    const frame = { ...(e.frame ?? JSON.parse(e.json)), seq: e.seq };
    // The frame as stored, with seq last: what JSON.stringify(frame) gives, without
    // stringifying the message a second time.
    const json = `${e.json.slice(0, -1)},"seq":${e.seq}}`;
    const now: Session[] = [];
    for (const name of e.names) {
      const s = this.api.sessions.get(name);
      if (!s) continue;
      // A session still catching up gets it from the log, in order, in a later step.
      const st = this.#state(s);
      if (st.catchingUp || st.sent >= e.seq) continue;
      now.push(s);
      this.#sent(s, st, e.seq);
    }
    if (now.length) this.api.relay(now, frame, json);
  }

  /** A message this node never heard of (its node died after the commit, before telling):
   *  every session here reads what it was not sent from the log, in order, and the log's
   *  order goes on from the last message committed. */
  async #fillGap(always = false): Promise<void> {
    if (this.#early.size === 0 && !always) return;
    const top = await store.maxSeq(this.api.db);
    for (const name of this.api.sessions.names()) {
      const s = this.api.sessions.get(name);
      if (!s || this.#state(s).catchingUp) continue;
      const st = this.#state(s);
      while (true) {
        const rows = await store.pending(this.api.db, name.toLowerCase(), st.sent, STEP_ROWS);
        for (const row of rows) {
          this.api.relay([s], { ...JSON.parse(row.frame), seq: row.seq });
          this.#sent(s, st, row.seq);
        }
        if (rows.length < STEP_ROWS) break;
      }
    }
    if (top > this.#applied) this.#applied = top;
    if (top > this.#lastSeq) this.#lastSeq = top;
    for (const [prev, e] of this.#early) if (e.seq <= this.#applied) this.#early.delete(prev);
    this.#arrive([]);
  }

  #sent(s: Session, st: Delivery, seq: number) {
    st.sent = seq;
    // A plain-text (nc) user cannot acknowledge: what reached their connection counts as seen.
    if (s.mode === "text") this.ack(s, seq);
  }

  async #catchUp(s: Session): Promise<void> {
    const { db } = this.api;
    const st = this.#state(s);
    const account = s.name!.toLowerCase();
    const online = () => this.api.sessions.get(s.name!) === s;
    await this.#exclusive.run(async () => {
      const cursor = Math.max(await store.cursorOf(db, account), this.#cursors.get(account) ?? 0);
      st.sent = st.acked = cursor;
      st.until = this.#lastSeq;
      const convs = await store.missed(db, account, cursor);
      if (!online()) return;
      this.api.send(s, OfflineSummary, {
        count: convs.reduce((n, c) => n + c.n, 0),
        first: convs.length ? Math.min(...convs.map((c) => c.first)) : undefined,
        last: convs.length ? Math.max(...convs.map((c) => c.last)) : undefined,
        convs: convs.map((c) => ({ with: label(c.conv, c.sender), count: c.n })),
      });
    });
    // Each step sends about an eighth of the send queue (at most three eighths in bytes, for
    // text in non-Latin scripts), then waits until the reader has taken the queue down to
    // half: a long backlog never overflows a slow reader's queue.
    const budget = this.api.limits.sendQueueBytes / 8;
    while (online()) {
      const done = await this.#exclusive.run(async () => {
        const rows = await store.pending(db, account, st.sent, STEP_ROWS);
        if (!online()) return true;
        let bytes = 0;
        for (const row of rows) {
          const frame = JSON.parse(row.frame);
          frame.seq = row.seq;
          if (row.seq <= st.until) frame.replay = "missed";
          this.api.relay([s], frame);
          this.#sent(s, st, row.seq);
          // UTF-16 length: a byte estimate that is exact for ASCII, low for other scripts.
          if ((bytes += row.frame.length) > budget) return false;
        }
        if (rows.length < STEP_ROWS) st.catchingUp = false;
        return !st.catchingUp;
      });
      if (done) return;
      await this.api.writable(s);
    }
  }
}

/** How a conversation is named in a summary: the other person, or `#room`. */
function label(conv: string, sender: string): string {
  return conv.startsWith(ROOM_CONVERSATION) ? `#${conv.slice(ROOM_CONVERSATION.length)}` : sender;
}
