/**
 * Offline delivery through real processes: `classchat serve` and `classchat connect`, a server
 * killed with SIGKILL and restarted, a connection cut mid-stream by a proxy, and a fake server
 * that sends duplicates.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { encodeFrame, LineSplitter } from "../../protocol/framing.ts";
import { clientConfigDir, connectArgs, runCli, spawnClient, spawnServer } from "../process.ts";

/** Times are shown in the client's zone: fix it so the test can predict them. */
const UTC = { TZ: "UTC" };

/** `YYYY-MM-DD HH:MM` in UTC, as the client shows a send time. */
function minute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

/** Logs `name` in once (making the account and, with encrypt, its key) and quits. */
async function register(
  name: string,
  server: Awaited<ReturnType<typeof spawnServer>>,
  config: string,
) {
  const { args, env } = connectArgs(name, server, config);
  const r = await runCli(args, "", env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

Deno.test("offline cli - messages to an offline user arrive on connect, in order, with their send time", async () => {
  const server = await spawnServer();
  try {
    const bobConfig = clientConfigDir();
    await register("Bob", server, bobConfig);
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    const start = Date.now();
    for (const text of ["first", "second", "third"]) await alice.type(`Bob: ${text}`);
    await alice.waitFor(/-> Bob: third/);
    assert.match(
      await alice.waitFor(/is offline/),
      /^\* Bob is offline: stored, delivered when they connect$/,
    );
    const end = Date.now();

    const bob = spawnClient("Bob", server, bobConfig, [], UTC);
    const summary = await bob.waitFor(/while you were away:/);
    assert.match(summary, /^\* 3 messages while you were away: 3 from Alice \(/);
    await bob.waitFor(/Alice: third/);
    const shown = bob.lines.filter((l) => l.includes("Alice: "));
    const when = `(${
      [minute(start), minute(end)].map((m) => m.replace(/[-:]/g, "\\$&")).join("|")
    })`;
    for (const [i, text] of ["first", "second", "third"].entries()) {
      assert.match(
        shown[i],
        new RegExp(`^\\(while you were away\\) \\[${when}\\] Alice: ${text}$`),
      );
    }
    // The summary comes after "logged in" and before the messages.
    const at = (re: RegExp) => bob.lines.findIndex((l) => re.test(l));
    assert.ok(at(/logged in as Bob/) < at(/while you were away:/));
    assert.ok(at(/while you were away:/) < at(/Alice: first/));
    // /history shows the same conversation from the store, oldest first.
    await bob.type("/history Alice 2");
    await bob.waitFor(/end of history with Alice \(2 messages/);
    const hist = bob.lines.filter((l) => /^\[.*\] Alice: /.test(l));
    assert.deepEqual(hist.map((l) => l.replace(/^\[.*?\] /, "")), [
      "Alice: second",
      "Alice: third",
    ]);
    await bob.type("/history Alice more");
    await bob.waitFor(/end of history with Alice \(1 message\)/);
    await alice.end();
    const b = await bob.end();
    assert.equal(b.stdout.match(/Alice: first/g)?.length, 2, "once missed, once in history");
  } finally {
    await server.stop();
  }
});

Deno.test("offline cli - SIGKILL after accepting: the end-to-end sealed message is ciphertext on disk, delivered after restart, and clients reconnect", async () => {
  let server = await spawnServer();
  const bobConfig = clientConfigDir();
  try {
    await register("Bob", server, bobConfig); // Bob's key is on the server now
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    await alice.type("Bob: the secret plan is 42");
    await alice.waitFor(/^\* Bob is offline: stored/);

    // Accepted, not yet delivered: kill the server without any chance to clean up.
    assert.notEqual(await server.stop("SIGKILL", true), 0);
    const raw = new DatabaseSync(`${server.data}/classchat.db`);
    const rows = raw.prepare("SELECT frame FROM offline_log").all() as Array<{ frame: string }>;
    raw.close();
    assert.equal(rows.length, 1, "the message is in the log");
    const frame = JSON.parse(rows[0].frame);
    assert.equal(frame.text, undefined);
    assert.equal(typeof frame.sealed, "object", "stored sealed");
    for (const f of ["classchat.db", "classchat.db-wal"]) {
      const bytes = await Deno.readFile(`${server.data}/${f}`).catch(() => new Uint8Array());
      assert.ok(!new TextDecoder().decode(bytes).includes("secret plan"), `no plaintext in ${f}`);
    }
    await alice.waitFor(/^! DISCONNECTED: /);
    await alice.waitFor(/^\* reconnecting in /);

    // Restart on the same data and port: Alice's client finds it by itself.
    server = await spawnServer(["--port", String(server.port)], server.data);
    await alice.waitFor(/^\* reconnected as Alice/, 30_000);
    const bob = spawnClient("Bob", server, bobConfig);
    await bob.waitFor(/^\(while you were away\) \[.*\] Alice: the secret plan is 42$/);
    await bob.type("Alice: got it");
    await alice.waitFor(/^Bob: got it$/);
    await bob.end();
    await alice.end();
  } finally {
    await server.stop();
  }
});

/** A TCP proxy that cuts the first connection that carries `cutAfter` bytes from the server,
 *  in the middle of what it was sending; later connections pass untouched. */
function cuttingProxy(target: number, cutAfter: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let cut = false;
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const down of listener) {
      const up = await Deno.connect({ hostname: "127.0.0.1", port: target });
      conns.push(down, up);
      const limit = cut ? Infinity : cutAfter;
      const pipe = async (from: Deno.Conn, to: Deno.Conn, max: number) => {
        let n = 0;
        const buf = new Uint8Array(16 * 1024);
        try {
          while (true) {
            const r = await from.read(buf);
            if (r === null) break;
            const take = Math.min(r, max - n);
            if (take > 0) await to.write(buf.subarray(0, take));
            n += r;
            if (n >= max) {
              cut = true;
              break;
            }
          }
        } catch { /* the other side went away */ }
        for (const c of [from, to]) {
          try {
            c.close();
          } catch { /* closed already */ }
        }
      };
      pipe(up, down, limit);
      pipe(down, up, Infinity);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed already */ }
      }
    },
  };
}

Deno.test("offline cli - a connection cut mid-stream: after the reconnect every message is shown exactly once", async () => {
  const server = await spawnServer();
  const n = 300;
  // The client's keys belong to the address it dials, so Bob always comes through the proxy.
  const proxy = cuttingProxy(server.port, 40_000);
  const viaProxy = { ...server, port: proxy.port };
  try {
    const bobConfig = clientConfigDir();
    await register("Bob", viaProxy, bobConfig);
    const alice = spawnClient("Alice", server);
    await alice.waitFor(/^\* logged in as Alice/);
    const pad = "p".repeat(200);
    for (let i = 1; i <= n; i++) await alice.type(`Bob: m${i} ${pad}`);
    await alice.waitFor(new RegExp(`-> Bob: m${n} `));

    const bob = spawnClient("Bob", viaProxy, bobConfig);
    await bob.waitFor(/^! DISCONNECTED: /);
    await bob.waitFor(/^\* reconnected as Bob/, 30_000);
    await bob.waitFor(new RegExp(`Alice: m${n} `));
    const got = bob.lines.filter((l) => l.includes("Alice: m")).map((l) => l.match(/m(\d+)/)![1]);
    assert.deepEqual(
      got,
      Array.from({ length: n }, (_, i) => String(i + 1)),
      "each once, in order",
    );
    await bob.end();
    await alice.end();
  } finally {
    proxy.close();
    await server.stop();
  }
});

/** A fake server that logs anyone in and pushes dm.message frames with these seqs. */
function duplicatingServer(seqs: number[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const acks: number[] = [];
  const served = (async () => {
    const conn = await listener.accept();
    const write = (f: Record<string, unknown>) => conn.write(encodeFrame(f));
    await write({
      type: "welcome",
      server: "Fake",
      version: "0",
      protocol: 1,
      plugins: ["dm"],
      limits: {},
    });
    const splitter = new LineSplitter(1 << 20);
    const buf = new Uint8Array(65536);
    while (true) {
      const r = await conn.read(buf).catch(() => null);
      if (r === null) break;
      for (const ev of splitter.push(buf.subarray(0, r))) {
        if (ev.kind !== "line") continue;
        const f = JSON.parse(new TextDecoder().decode(ev.bytes));
        if (f.type === "session.ack") acks.push(f.upTo);
        if (f.id === undefined) continue;
        const result = f.type === "session.account"
          ? { name: f.name, exists: true }
          : f.type === "session.login"
          ? { name: f.name, created: false, token: "t" }
          : f.type === "encrypt.publish"
          ? { replaced: false }
          : {};
        await write({ type: "ack", re: f.id, ...result });
        if (f.type === "session.login") {
          for (const seq of seqs) {
            await write({
              type: "dm.message",
              sender: "Alice",
              receiver: f.name,
              text: `n${seq}`,
              ts: 0,
              seq,
            });
          }
        }
      }
    }
    conn.close();
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    acks,
    served,
    close: () => listener.close(),
  };
}

Deno.test("offline cli - duplicates on the wire are shown once", async () => {
  const fake = duplicatingServer([1, 2, 2, 1, 3, 3, 2, 4]);
  try {
    const bob = spawnClient("Bob", {
      port: fake.port,
    } as Awaited<ReturnType<typeof spawnServer>>);
    await bob.waitFor(/Alice: \[unencrypted\] n4/);
    const r = await bob.end();
    assert.deepEqual(r.stdout.match(/Alice: \[unencrypted\] n\d/g), [
      "Alice: [unencrypted] n1",
      "Alice: [unencrypted] n2",
      "Alice: [unencrypted] n3",
      "Alice: [unencrypted] n4",
    ]);
    await fake.served;
    assert.equal(fake.acks.at(-1), 4, "what was shown is acknowledged");
  } finally {
    fake.close();
  }
});
