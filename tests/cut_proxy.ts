/**
 * A plain-TCP proxy in front of a harness server (`tls: false`) that cuts connections at
 * chosen points, for the tests of sends that survive a drop. It relays whole lines, so it can
 * cut in the middle of a request the client is sending, or just before (or after) the ack of a
 * `dm.send` the server has already committed. While `down` it accepts and closes at once, as
 * a network with no server behind it.
 *
 *   const proxy = cutProxy(h.port, (n) => n < 10 ? { at: "before-ack", after: 3 } : undefined);
 */
import { LineSplitter } from "../protocol/framing.ts";

/** Where a connection is cut: `before-ack` drops the `after`-th dm.send ack (the message is
 *  on disk, its ack is lost) and closes; `after-ack` closes right after sending it;
 *  `mid-send` sends the first half of the `after`-th dm.send to the server and closes. */
export interface Cut {
  at: "before-ack" | "after-ack" | "mid-send";
  after: number;
}

export interface CutProxy {
  port: number;
  /** Every connection is closed as soon as it is accepted. */
  down: boolean;
  /** The cuts made, in order. */
  readonly cuts: Cut[];
  /** Called as each connection is accepted, with whether it was refused (`down`). */
  onAccept?: (refused: boolean) => void;
  /** Drops every open connection now. */
  drop(): void;
  /** dm.send frames relayed to the server, in all. */
  readonly relayed: number;
  /** Holds everything the server sends until resume(): no ack reaches the client. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/** `plan(n)` says where to cut the n-th connection (0, 1, ...), or undefined to leave it. */
export function cutProxy(upstream: number, plan: (n: number) => Cut | undefined): CutProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<() => void>();
  const links: Promise<void>[] = [];
  let count = 0;
  let relayed = 0;
  let paused: PromiseWithResolvers<void> | undefined;
  const proxy: CutProxy = {
    port: (listener.addr as Deno.NetAddr).port,
    down: false,
    cuts: [],
    drop() {
      for (const end of open) end();
    },
    get relayed() {
      return relayed;
    },
    pause() {
      paused ??= Promise.withResolvers();
    },
    resume() {
      paused?.resolve();
      paused = undefined;
    },
    async close() {
      listener.close();
      for (const end of open) end();
      await accepting;
      await Promise.allSettled(links);
    },
  };

  const relay = async (client: Deno.Conn) => {
    proxy.onAccept?.(proxy.down);
    if (proxy.down) return client.close();
    const server = await Deno.connect({ hostname: "127.0.0.1", port: upstream });
    const cut = plan(count++);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      open.delete(end);
      for (const c of [client, server]) {
        try {
          c.close();
        } catch { /* closed already */ }
      }
    };
    open.add(end);
    const sends = new Set<unknown>();
    let seen = 0;
    const up = lines(client, async (line, text) => {
      if (ended) return;
      const f = JSON.parse(text);
      if (f.type === "dm.send") {
        sends.add(f.id);
        if (cut?.at === "mid-send" && ++seen === cut.after) {
          await write(server, line.subarray(0, line.length >> 1));
          proxy.cuts.push(cut);
          return end();
        }
      }
      if (f.type === "dm.send") relayed++;
      await write(server, withNewline(line));
    });
    const down = lines(server, async (line, text) => {
      if (paused) await paused.promise;
      if (ended) return;
      const f = JSON.parse(text);
      const ack = f.type === "ack" && sends.delete(f.re);
      if (ack && cut && cut.at !== "mid-send" && ++seen === cut.after) {
        if (cut.at === "after-ack") await write(client, withNewline(line));
        proxy.cuts.push(cut);
        return end();
      }
      await write(client, withNewline(line));
    });
    // Either side ending ends the link, as a real network's drop would.
    links.push(Promise.race([up, down]).finally(end));
  };
  const accepting = (async () => {
    for await (const conn of listener) relay(conn).catch(() => conn.close());
  })().catch(() => {});
  return proxy;
}

/** Reads lines from conn and hands each to fn, in order, until it closes or fn ends it. */
export async function lines(
  conn: Deno.Conn,
  fn: (line: Uint8Array, text: string) => Promise<void>,
  /** Takes binary frames (header, newline, body); without it 0x01 starts a line. */
  binary?: (bytes: Uint8Array) => Promise<void>,
) {
  const splitter = new LineSplitter(16 * 1024 * 1024, () => binary !== undefined);
  const buf = new Uint8Array(64 * 1024);
  const dec = new TextDecoder();
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) return;
      for (const ev of splitter.push(buf.subarray(0, n))) {
        if (ev.kind === "line") await fn(ev.bytes.slice(), dec.decode(ev.bytes));
        else if (ev.kind === "binary") await binary?.(ev.bytes);
      }
    }
  } catch { /* closed by the other side's end */ }
}

function withNewline(line: Uint8Array): Uint8Array {
  const out = new Uint8Array(line.length + 1);
  out.set(line);
  out[line.length] = 10;
  return out;
}

export async function write(conn: Deno.Conn, bytes: Uint8Array) {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}
