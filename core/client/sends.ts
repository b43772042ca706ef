/**
 * The client's requests that outlive a connection (MessageSpec.resend: chat messages). Each
 * request the client makes carries a transaction id (`txn`) it chose: a random prefix per run
 * and a counter. A resend request is kept here, in order, until the server answers it: one
 * made while disconnected waits for the next connection, and one whose connection dropped
 * before its answer is sent again, with the same txn, on the next; the server does it once and
 * answers a repeat with the first answer (docs/PROTOCOL.md, "Transaction ids"). So each
 * request's promise settles once, with its one answer, whatever happened in between.
 */
import { ChatError } from "../../protocol/errors.ts";
import type { MessageSpec } from "../../protocol/spec.ts";

/** What Sends needs of a connection: the terminal's SendsConn, or the web page's. */
export interface SendsConn {
  request<T, A>(spec: MessageSpec<T, A>, body: T, txn?: string): Promise<A>;
  readonly isClosed: boolean;
}

/** Requests sent and not yet answered at most; more wait their turn (a pasted text of
 *  thousands of lines goes out as answers come back). The server keeps the answers of an
 *  account's last 512 (TXN_RETAIN_PER_ACCOUNT), more than this, so every resend is recognised.
 *  While disconnected it also bounds what is queued: a student types far fewer while a
 *  reconnect takes seconds, and past it a message is refused rather than kept without bound. */
export const CLIENT_UNSENT_LIMIT = 256;

/** A request kept until answered; A is its ack's decoded fields. */
interface Unanswered<A = unknown> {
  /** Sends it (again) on `conn`, with its txn: resolves with the decoded ack. */
  request(conn: SendsConn): Promise<A>;
  /** The connection it was last sent on (not sent again on the same one). */
  on: SendsConn | undefined;
  resolve(ack: A): void;
  reject(e: Error): void;
}

export class Sends {
  /** Random per run: two runs of the client (or two computers) never reuse a txn. */
  readonly #prefix = crypto.getRandomValues(new Uint8Array(9)).toBase64({ alphabet: "base64url" });
  #n = 0;
  readonly #queue: Unanswered[] = [];
  #conn: SendsConn | undefined;
  /** Places held for requests not handed over yet (waiting for a reconnect, see hold). */
  #held = 0;
  /** Set when the session is over: nothing is kept any more. */
  #ended: Error | undefined;
  /** Called when a logged-in connection takes requests again (see whenBack), and when a
   *  request is answered (see handOver). */
  #backWaiters: Array<() => void> = [];
  #answerWaiters: Array<() => void> = [];
  /** Called when nothing is left unanswered (see drained). */
  #drainWaiters: Array<() => void> = [];

  /** A fresh transaction id: `<random>.<counter>`. */
  txn(): string {
    return `${this.#prefix}.${++this.#n}`;
  }

  /** How many requests are waiting for an answer. */
  get size(): number {
    return this.#queue.length;
  }

  /** How many requests made are not answered yet: sent, or waiting to be sent. */
  get unconfirmed(): number {
    return this.#queue.length + Math.max(0, this.#held);
  }

  /** Resolves once every request made so far is answered (or the session is over). */
  drained(): Promise<void> {
    if (this.#ended || this.unconfirmed === 0) return Promise.resolve();
    return new Promise((r) => this.#drainWaiters.push(r));
  }

  /** True while a logged-in connection takes requests. */
  get online(): boolean {
    return this.#conn !== undefined && !this.#conn.isClosed;
  }

  /** Resolves once a logged-in connection takes requests (at once if one does), or the
   *  session is over. */
  whenBack(): Promise<void> {
    if (this.#ended || this.online) return Promise.resolve();
    return new Promise((r) => this.#backWaiters.push(r));
  }

  /**
   * Hands over a request that holds a place (hold) once the session is back, behind those
   * handed over before it, after `prepare` (the outgoing intercepts). A prepare cut off by a
   * drop (an intercept may ask the server for a key) runs again once the session is back.
   * Resolves when handed over, with the promise of the answer.
   */
  async handOver<T, A>(
    spec: MessageSpec<T, A>,
    body: T,
    txn: string,
    prepare: (body: T) => Promise<T>,
  ): Promise<{ ack: Promise<A> }> {
    while (true) {
      await this.whenBack();
      // At most CLIENT_UNSENT_LIMIT go unanswered: the next waits for an answer.
      if (this.#queue.length >= CLIENT_UNSENT_LIMIT && !this.#ended) {
        await new Promise<void>((r) => this.#answerWaiters.push(r));
        continue;
      }
      const conn = this.#conn;
      try {
        return { ack: this.send(spec, await prepare(body), txn) };
      } catch (e) {
        if (e instanceof ChatError || this.#ended || !conn?.isClosed) {
          this.unhold();
          throw e;
        }
      }
    }
  }

  /** Counts a request made now and handed over later (send); while disconnected, fails when
   *  CLIENT_UNSENT_LIMIT requests are waiting already. */
  hold(): void {
    if (!this.online && this.#queue.length + this.#held >= CLIENT_UNSENT_LIMIT) {
      throw new Error(`${CLIENT_UNSENT_LIMIT} messages are waiting to be sent already; not sent`);
    }
    this.#held++;
  }

  /** Gives back a held place that will not be used (the request failed before it was sent). */
  unhold(): void {
    this.#held--;
  }

  /** Sends a request that holds a place now if online, else when the next connection is
   *  logged in; resolves with the answer, sent again after every drop until there is one. */
  send<T, A>(spec: MessageSpec<T, A>, body: T, txn: string): Promise<A> {
    this.#held--;
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      const u: Unanswered<A> = {
        request: (conn) => conn.request(spec, body, txn),
        on: undefined,
        resolve,
        reject,
      };
      this.#queue.push(u);
      if (this.#conn) this.#attempt(u, this.#conn);
    });
  }

  /** A connection is logged in: everything waiting goes out on it, in order. */
  connected(conn: SendsConn): void {
    this.#conn = conn;
    for (const u of [...this.#queue]) this.#attempt(u, conn);
    for (const w of this.#backWaiters.splice(0)) w();
  }

  /** The connection dropped: requests wait for the next one. */
  disconnected(): void {
    this.#conn = undefined;
  }

  /** The session is over: every request still waiting fails with `e`. */
  end(e: Error): void {
    this.#ended ??= e;
    this.#conn = undefined;
    for (const u of this.#queue.splice(0)) u.reject(e);
    for (const w of this.#backWaiters.splice(0)) w();
    for (const w of this.#answerWaiters.splice(0)) w();
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  #attempt(u: Unanswered, conn: SendsConn) {
    if (u.on === conn) return;
    u.on = conn;
    u.request(conn).then(
      (ack) => this.#settled(u) && u.resolve(ack),
      (e) => {
        // An error frame is the server's answer. Anything else means no answer came (the
        // connection dropped first): the request waits for the next connection.
        if (e instanceof ChatError && this.#settled(u)) u.reject(e);
        else if (this.#conn) this.#attempt(u, this.#conn);
      },
    );
  }

  /** Takes u out of the queue; false if it was answered already (sent twice). */
  #settled(u: Unanswered): boolean {
    const i = this.#queue.indexOf(u);
    if (i < 0) return false;
    this.#queue.splice(i, 1);
    this.#answerWaiters.shift()?.();
    if (this.unconfirmed === 0) { for (const w of this.#drainWaiters.splice(0)) w(); }
    return true;
  }
}
