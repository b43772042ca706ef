/**
 * The cluster bus: what one node tells the others (`serve --bus nats://host:4222`). It carries
 * only what must cross nodes live (a message's delivery, a login somewhere else, a kick); what
 * must survive a crash is in the shared PostgreSQL store, written first. Core NATS (at most
 * once, in order per publisher): a message lost with a dying node is found again in the store
 * (docs/ARCHITECTURE.md, "Several nodes"). Without --bus the server is one node and the bus
 * delivers nothing.
 *
 * Subjects: `<prefix>.<topic>`, the prefix `classchat` unless the URL names one
 * (`nats://host:4222?prefix=course1`: several clusters on one NATS, or one per test). A message
 * is JSON `{from, msg}`, bytes in `msg.data` framed after it (bus_codec.ts); a node never
 * receives its own.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decodeBusMessage, encodeBusMessage } from "./bus_codec.ts";

export interface Bus {
  /** This node's id (`serve --node-id`, default the host name and port). */
  readonly node: string;
  /** Whether other nodes may exist (a real bus). */
  readonly clustered: boolean;
  /** Connected now (a bus that lost NATS is reconnecting). */
  healthy(): boolean;
  /** To every other node, or only to `node` (a file relay's chunks go to one node). */
  publish(topic: string, msg: unknown, node?: string): void;
  /** Hears `topic` published to all and to this node alone. A listener that throws is
   *  logged, never let through: it would stop the NATS client reading. */
  subscribe(topic: string, fn: (msg: unknown, from: string) => void): void;
  /** Called every RESYNC_MS and when the bus is back after losing NATS: state kept from the
   *  bus's news is read again from the store, in case a message was lost (at most once). */
  onResync(fn: () => void): void;
  close(): Promise<void>;
}

/** How often a node reads again what it keeps from the other nodes' news (Synced). */
export const RESYNC_MS = 30_000;

/** A node id as one NATS subject token: no dot, space or wildcard. */
function token(node: string): string {
  return encodeURIComponent(node).replace(/[.*!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/** The bus as a person reads it in logs: no password. */
export function describeBus(url: string): string {
  const u = new URL(url);
  return `nats://${u.host}${
    u.searchParams.get("prefix") ? ` (prefix ${u.searchParams.get("prefix")})` : ""
  }`;
}

/** One node: nothing to tell anyone. */
export function localBus(node: string): Bus {
  return {
    node,
    clustered: false,
    healthy: () => true,
    publish: () => {},
    subscribe: () => {},
    onResync: () => {},
    close: () => Promise.resolve(),
  };
}

/** How long a node waits for NATS at start before refusing to serve. */
const CONNECT_TIMEOUT_MS = 5000;

export async function openNatsBus(
  url: string,
  node: string,
  logError: (line: string) => void,
): Promise<Bus> {
  const u = new URL(url);
  const prefix = u.searchParams.get("prefix") ?? "classchat";
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new Error(`--bus: bad prefix "${prefix}"`);
  const server = `${u.hostname}:${u.port || "4222"}`;
  const nc: NatsConnection = await connect({
    servers: server,
    name: `classchat ${node}`,
    timeout: CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1, // a node that loses NATS keeps trying, and recovers when it returns
    reconnectTimeWait: 500,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    pass: u.password ? decodeURIComponent(u.password) : undefined,
  });
  let connected = true;
  const resyncs: Array<() => void> = [];
  const resync = () => {
    for (const fn of resyncs) fn();
  };
  const timer = setInterval(resync, RESYNC_MS);
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") connected = false;
      else if (s.type === "reconnect") connected = true, resync();
    }
  })().catch(() => {});
  return {
    node,
    clustered: true,
    healthy: () => connected && !nc.isClosed(),
    publish(topic, msg, to) {
      const subject = to === undefined ? `${prefix}.${topic}` : `${prefix}.@${token(to)}.${topic}`;
      nc.publish(subject, encodeBusMessage(node, msg));
    },
    subscribe(topic, fn) {
      const callback = (err: unknown, m: { data: Uint8Array }) => {
        if (err) return;
        const parsed = decodeBusMessage(m.data);
        if (!parsed || parsed.from === node) return; // not ours, or our own
        try {
          fn(parsed.msg, parsed.from);
        } catch (e) {
          logError(`bus: a ${topic} message from ${parsed.from} failed: ${e}`);
        }
      };
      nc.subscribe(`${prefix}.${topic}`, { callback });
      nc.subscribe(`${prefix}.@${token(node)}.${topic}`, { callback });
    },
    onResync: (fn) => void resyncs.push(fn),
    async close() {
      clearInterval(timer);
      await nc.drain().catch(() => {});
    },
  };
}
