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
    this.#lastSeq = await store.maxSeq(this.api.db);
    await this.#spans.load(this.api.db);
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
    this.#catchUp(s).catch((e) => this.api.log.error(`catch-up for ${s.name} failed: ${e}`));
  }

  /** Commits what is waiting; for shutdown. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
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
    let seqs: number[];
    try {
      seqs = await store.append(this.api.db, this.#spans, batch.map((p) => p.entry), cursors);
    } catch (e) {
      // Not on disk, so not accepted: every sender in the batch gets an error.
      for (const p of batch) p.reject(e);
      throw e;
    }
    batch.forEach((p, i) => p.resolve(this.#deliver(p, seqs[i])));
  }

  /** Pushes one committed message to its recipients who are online and caught up. */
  #deliver(p: Pending, seq: number): PostResult {
    this.#lastSeq = seq;
    const result: PostResult = { seq, sent: [], stored: [], offline: [] };
    const frame = { ...p.frame, seq };
    // The frame as stored, with seq last: what JSON.stringify(frame) gives, without
    // stringifying the message a second time.
    const json = `${p.entry.json.slice(0, -1)},"seq":${seq}}`;
    const now: Session[] = [];
    for (const name of p.names) {
      const s = this.api.sessions.get(name);
      if (!s) {
        result.stored.push(name);
        continue;
      }
      result.sent.push(s.name!);
      // A session still catching up gets it from the log, in order, in a later step.
      const st = this.#state(s);
      if (st.catchingUp) continue;
      now.push(s);
      this.#sent(s, st, seq);
    }
    if (now.length) this.api.relay(now, frame, json);
    return result;
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
