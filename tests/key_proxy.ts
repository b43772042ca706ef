/**
 * A server that lies about end-to-end keys, for the downgrade tests: a plain-TCP proxy in
 * front of a real harness server (`tls: false`) that relays every frame and, when told to,
 * answers `encrypt.key` with no key ("strip") or acts as a server without the encrypt plugin
 * ("hide"), or rewrites key answers as a test likes (another user's key); it can also push
 * frames of its own (a forged message). The client under test is
 * the real one (every plugin) dialling the proxy, with its own keys and downloads directory.
 *
 *   const proxy = keyProxy(h.port);
 *   const alice = await proxiedClient(h, proxy, "Alice");
 *   proxy.mode = "strip";
 */
import { encodeFrameFor } from "../protocol/framing.ts";
import { parseBinaryFrame } from "../protocol/core.ts";
import { lines, write as writeAll } from "./cut_proxy.ts";
import type { RawFrame } from "../protocol/spec.ts";
import { type AppClient, appClient } from "./app.ts";
import type { Harness } from "./harness.ts";
import { clientConfigDir } from "./process.ts";

/** "pass" relays as is; "strip" says every user has no key (and drops key-change pushes);
 *  "hide" answers every encrypt.* request UNKNOWN_TYPE, as a server without the plugin. */
export type ProxyMode = "pass" | "strip" | "hide";

export interface KeyProxy {
  port: number;
  mode: ProxyMode;
  /** How many answers the proxy made up or rewrote: proof the attack happened. */
  lies: number;
  /** Rewrites each encrypt.key answer `{name, key}` (in "pass" mode), e.g. to another key. */
  keyAnswer?: (ack: RawFrame) => RawFrame;
  /** The keys published through the proxy, by lower-cased account name. */
  published: Map<string, string>;
  /** Pushes a frame to every connection logged in as `name`, as if the server sent it. */
  inject(name: string, frame: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export function keyProxy(upstream: number): KeyProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const links: Array<{ name?: string; toClient(f: RawFrame): Promise<void>; close(): void }> = [];
  const pumps: Promise<void>[] = [];
  const proxy: KeyProxy = {
    port: (listener.addr as Deno.NetAddr).port,
    mode: "pass",
    lies: 0,
    published: new Map(),
    async inject(name, frame) {
      const to = links.filter((l) => l.name?.toLowerCase() === name.toLowerCase());
      if (to.length === 0) throw new Error(`nobody is logged in as ${name} through the proxy`);
      for (const l of to) await l.toClient(frame as RawFrame);
    },
    async close() {
      listener.close();
      for (const l of links) l.close();
      await accepting;
      await Promise.allSettled(pumps);
    },
  };

  const relay = async (client: Deno.Conn) => {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: upstream });
    /** Ids of this client's encrypt.key requests, whose acks carry the key. */
    const keyRequests = new Set<unknown>();
    // Writes to the client come from both pumps: one at a time, whole frames.
    let writing = Promise.resolve();
    const link = {
      name: undefined as string | undefined,
      toClient: (f: RawFrame) =>
        writing = writing.then(() => writeAll(client, encodeFrameFor(f, true))),
      close() {
        for (const c of [client, server]) {
          try {
            c.close();
          } catch { /* closed already */ }
        }
      },
    };
    links.push(link);
    const up = pump(client, async (f) => {
      if (f.type === "session.login" || f.type === "session.resume") link.name = String(f.name);
      if (proxy.mode === "hide" && String(f.type).startsWith("encrypt.")) {
        proxy.lies++;
        const message = `no plugin handles ${f.type}`;
        return link.toClient({ type: "error", re: f.id, code: "UNKNOWN_TYPE", message });
      }
      if (f.type === "encrypt.key") keyRequests.add(f.id);
      if (f.type === "encrypt.publish") {
        proxy.published.set(link.name!.toLowerCase(), f.key as string);
      }
      await writeAll(server, encodeFrameFor(f, true));
    });
    const down = pump(server, (f) => {
      if (f.type === "ack" && keyRequests.delete(f.re)) {
        const lie = proxy.mode === "strip" ? { ...f, key: null } : proxy.keyAnswer?.(f) ?? f;
        if (JSON.stringify(lie) !== JSON.stringify(f)) proxy.lies++;
        f = lie;
      }
      if (f.type === "encrypt.changed" && proxy.mode !== "pass") return Promise.resolve();
      if (f.type === "welcome" && proxy.mode === "hide") {
        f = { ...f, plugins: (f.plugins as string[]).filter((p) => p !== "encrypt") };
      }
      return link.toClient(f);
    });
    // Either side ending ends the link, as a real server's closing would.
    pumps.push(Promise.race([up, down]).finally(() => link.close()));
  };
  const accepting = (async () => {
    for await (const conn of listener) relay(conn).catch(() => conn.close());
  })().catch(() => {});
  return proxy;
}

/** A temporary directory removed when the test process ends. */
export function tempDir(prefix: string): string {
  const dir = Deno.makeTempDirSync({ prefix });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

/** Reads frames from conn and hands each to fn, in order, until it closes; a binary frame's
 *  `data` is bytes, and encodeFrameFor sends it on as a binary frame again. */
function pump(conn: Deno.Conn, fn: (f: RawFrame) => Promise<void>) {
  return lines(conn, (_, text) => fn(JSON.parse(text)), (b) => fn(parseBinaryFrame(b)));
}

/**
 * The real client logged in as `name` through the proxy. It names the server by the real
 * server's address, so its keys and pins are those of that server whatever the proxy's port;
 * files it receives land in `downloads` (a new temporary directory unless given).
 */
export async function proxiedClient(
  h: Harness,
  proxy: KeyProxy,
  name: string,
  opts: { config?: string; downloads?: string } = {},
): Promise<AppClient & { downloads: string }> {
  const downloads = opts.downloads ?? tempDir("classchat-downloads-");
  const c = await appClient(h, name, opts.config ?? clientConfigDir(), {
    dial: () => Deno.connect({ hostname: "127.0.0.1", port: proxy.port }),
    pluginOptions: { downloads: [downloads] },
  });
  return { ...c, downloads };
}
