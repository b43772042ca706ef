/**
 * The client's outgoing requests, as plugins and the person make them: through the plugins'
 * outgoing intercepts (e.g. encryption), in the order they were made even when an intercept
 * takes time (each waits for the one before it to be handed to the connection, not answered).
 * Chat messages (MessageSpec.resend) carry a transaction id and are kept by Sends until
 * answered, across reconnects; anything else made while disconnected fails at once.
 */
import type { MessageSpec } from "../../protocol/spec.ts";
import type { ClientCtx, Ui } from "../../plugins/types.ts";
import type { ClientConnection } from "./connection.ts";
import type { ClientRegistry } from "./registry.ts";
import { Mutex } from "../mutex.ts";
import { Sends } from "./sends.ts";

export interface OutboxDeps {
  registry: ClientRegistry;
  ui: Ui;
  /** The context intercepts get: its requests go straight out, so an intercept that looks
   *  something up does not queue behind itself. */
  direct: () => ClientCtx;
  /** The logged-in connection, or a "not connected" error saying when the next try is. */
  connection: () => ClientConnection;
  /** When the next reconnect try is, for the queued notice. */
  nextTry: () => string;
  /** True once the person has asked to leave. */
  ending: () => boolean;
}

export class ClientOutbox {
  /** Requests kept until answered, across reconnects, and the transaction ids of messages. */
  readonly sends = new Sends();
  /** Ordered requests are handed to the connection one at a time, in order. */
  readonly #sending = new Mutex();

  constructor(private readonly deps: OutboxDeps) {}

  /** A request in order (`ordered`), or ahead of those waiting (the login hooks', which
   *  what was typed may be waiting for). */
  request<T, A>(spec: MessageSpec<T, A>, body: T, ordered = true): Promise<A> {
    const { registry, ui, direct, connection } = this.deps;
    const fns = registry.intercepts.get(spec.type)?.out ?? [];
    const resend = spec.resend && ordered;
    // Only messages carry a transaction id: they are what is sent again (a read may just run
    // again), and each costs the server a recorded answer.
    const txn = resend ? this.sends.txn() : undefined;
    try {
      // Anything else typed while disconnected fails now: a /join or /kick must not run
      // minutes later, when the connection is back.
      if (!resend && ordered && !this.sends.online) connection();
      if (resend) this.sends.hold();
    } catch (e) {
      return Promise.reject(e);
    }
    if (resend && !this.sends.online && !this.deps.ending()) {
      ui.notice(`not connected: queued, sent when reconnected (${this.deps.nextTry()})`);
    }
    const send = async () => {
      const prepare = async (b: T) => {
        for (const fn of fns) b = await fn(b, direct()) as T;
        return b;
      };
      // A message waits for the session to be back, behind those that waited before it.
      if (resend) return this.sends.handOver(spec, body, txn!, prepare);
      return { ack: connection().request(spec, await prepare(body), txn) };
    };
    if (!ordered) return send().then((s) => s.ack);
    return this.#sending.run(send).then((s) => s.ack);
  }

  /** Resolves once every request made so far has been handed over and answered, or after
   *  `ms`, whichever comes first. */
  async drain(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#sending.idle().then(() => this.sends.drained()),
      new Promise((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
  }
}
