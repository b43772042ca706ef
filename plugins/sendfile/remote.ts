/**
 * A live transfer between a sender on this node and a receiver on another node of the
 * cluster: relay.ts's relay cut in two halves that talk over the bus, each checking its own
 * client as relay.ts does. `RelayOut` stands for the receiver on the sender's node, `RelayIn`
 * for the sender on the receiver's node; nothing is held beyond the window in flight. Core
 * NATS keeps one node's messages to another in order; one lost (a node reconnecting to NATS)
 * shows as a chunk out of order, which cancels the transfer, or as a stall, which the
 * watchdog (--transfer-timeout) ends on both nodes: never as a wrong file.
 *
 * Bus topics, each sent to one node; `id` is always the transfer's on the sender's node, with
 * that process's boot token (`f3.1a2b3c4d`):
 *   sendfile.in   to the receiver's node:
 *     {k: "offer", id, from, to, name, size, sealed?} | {k: "chunk", id, n, data: bytes}
 *     | {k: "end", id, sha256, check?} | {k: "cancel", id, why}
 *   sendfile.out  to the sender's node:
 *     {k: "answer", id, live, busy} | {k: "credit", id, n} | {k: "verdict", id, ok}
 *     | {k: "cancel", id, why}
 */
import type { Session } from "../types.ts";
import { type Flow, type Flows, MAX_LIVE_INCOMING } from "./flow.ts";
import { type BusMsg, type Offer, readBusMsg, type RelayHost } from "./remote_msg.ts";
import { RelayOut } from "./relay_out.ts";
import { RelayIn } from "./relay_in.ts";

export { RelayOut };

/** How long a sender's node waits for the receiver's node to take an offer; past it the file
 *  is kept by the server instead (that node may be dead and not yet known so). */
const OFFER_WAIT_MS = 3000;

/** What the receiver's node answered: go live, or keep the file (the receiver is busy, on a
 *  plain-text connection, gone, or the node did not answer). */
export type OfferAnswer = RelayOut | { busy: boolean };
export type { Offer };

export class RemoteRelays implements RelayHost {
  readonly #outs = new Map<string, Flow>();
  /** By `${node} ${id}`: ids are the sender's node's. */
  readonly #ins = new Map<string, Flow>();
  readonly #answers = new Map<string, (a: { live: boolean; busy: boolean }) => void>();
  readonly #boot = crypto.randomUUID().slice(0, 8);

  constructor(readonly flows: Flows) {
    const { bus, log } = flows.api;
    const take = (fn: (m: BusMsg, node: string) => void) => (raw: unknown, node: string) => {
      const m = readBusMsg(raw);
      if (m) fn(m, node);
      else log.error(`sendfile: an unreadable bus message from ${node}`);
    };
    bus.subscribe("in", take((m, node) => this.#toIn(m, node)));
    bus.subscribe("out", take((m, node) => this.#toOut(m, node)));
  }

  publish(node: string, topic: "in" | "out", msg: BusMsg): void {
    this.flows.api.bus.publish(topic, msg, node);
  }

  track(side: "in" | "out", key: string, half: Flow): void {
    (side === "in" ? this.#ins : this.#outs).set(key, half);
  }

  untrack(side: "in" | "out", key: string, half: Flow): void {
    const map = side === "in" ? this.#ins : this.#outs;
    if (map.get(key) === half) map.delete(key);
  }

  /** Offers the file to `to`, logged in on `node`. */
  async offer(from: Session, to: string, node: string, offer: Offer): Promise<OfferAnswer> {
    const local = this.flows.newId();
    // Flow ids start again at f1 when a node restarts: the boot token keeps a transfer of
    // before the restart from being taken for one of after it.
    const id = `${local}.${this.#boot}`;
    const answer = await new Promise<{ live: boolean; busy: boolean }>((resolve) => {
      const timer = setTimeout(() => resolve({ live: false, busy: false }), OFFER_WAIT_MS);
      this.#answers.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.publish(node, "in", { k: "offer", id, from: from.name!, to, ...offer });
    });
    this.#answers.delete(id);
    if (!answer.live) return { busy: answer.busy };
    if (this.flows.api.sessions.get(from.name!) !== from) {
      this.publish(node, "in", { k: "cancel", id, why: `${from.name} disconnected` });
      return { busy: false };
    }
    return new RelayOut(this, local, id, from, to, node, offer);
  }

  #toIn(m: BusMsg, node: string) {
    if (m.k === "offer") return this.#offered(m, node);
    const relay = this.#ins.get(`${node} ${m.id}`);
    if (!(relay instanceof RelayIn)) return;
    if (m.k === "chunk") relay.put(m.n, m.data);
    else if (m.k === "end") relay.finish(m.sha256, m.check);
    else if (m.k === "cancel") relay.cancelled(m.why);
  }

  #offered(m: Extract<BusMsg, { k: "offer" }>, node: string) {
    const s = this.flows.api.sessions.get(m.to);
    const can = s?.mode === "json";
    const busy = can && (this.flows.liveIncoming(s) >= MAX_LIVE_INCOMING || this.flows.full(s));
    if (can && !busy) new RelayIn(this, node, m.id, s, m);
    this.publish(node, "out", { k: "answer", id: m.id, live: can && !busy, busy: !!busy });
  }

  #toOut(m: BusMsg, node: string) {
    if (m.k === "answer") {
      const waiting = this.#answers.get(m.id);
      if (waiting) return waiting({ live: m.live, busy: m.busy });
      // Taken after the sender's node gave up waiting: the file is being kept instead.
      if (m.live) this.publish(node, "in", { k: "cancel", id: m.id, why: "the offer timed out" });
      return;
    }
    const relay = this.#outs.get(m.id);
    if (!(relay instanceof RelayOut) || relay.node !== node) return;
    if (m.k === "credit") relay.credit(m.n);
    else if (m.k === "verdict") relay.verdictFrom(m.ok);
    else if (m.k === "cancel") relay.cancelled(m.why);
  }
}
