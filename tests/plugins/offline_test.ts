/**
 * The offline plugin against a real server (in this process, real TCP, real SQLite): the log,
 * cursors moved only by acks, catch-up on login, history, retention and restart.
 */
import assert from "node:assert/strict";
import {
  type Harness,
  openTestStore,
  pw,
  startServer,
  TestClient,
  withServer,
} from "../harness.ts";
import { PLUGINS } from "../../plugins/mod.ts";
import { field, message } from "../../protocol/spec.ts";
import type { Plugin } from "../../plugins/types.ts";

/** Logs in a name that has an account, reading past the welcome. */
async function back(h: Harness, name: string): Promise<TestClient> {
  const c = await h.connect();
  await c.expect("welcome");
  await c.login(name);
  return c;
}

/** Polls until test passes (bounded). */
async function until(test: () => boolean) {
  for (let i = 0; !test(); i++) {
    assert.ok(i < 500, "timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function dataDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "classchat-offline-" });
}

Deno.test("offline - a message to an offline account is stored, then delivered on login in order with its time", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    bob.close();
    await alice.gone("Bob");
    const acks = [];
    for (const text of ["one", "two", "three"]) {
      acks.push(await alice.ok("dm.send", { receiver: "bob", text }));
    }
    assert.deepEqual(acks.map((a) => [a.status, a.receiver]), Array(3).fill(["stored", "Bob"]));
    const seqs = acks.map((a) => a.seq as number);
    assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], "increasing seqs");

    const bob2 = await back(h, "Bob");
    const summary = await bob2.expect("offline.summary");
    assert.equal(summary.count, 3);
    assert.deepEqual(summary.convs, [{ with: "Alice", count: 3 }]);
    assert.equal(summary.first, acks[0].ts);
    for (const [i, text] of ["one", "two", "three"].entries()) {
      const m = await bob2.expect("dm.message");
      assert.equal(m.text, text);
      assert.equal(m.seq, acks[i].seq);
      assert.equal(m.ts, acks[i].ts, "the original send time");
      assert.equal(m.replay, "missed");
    }
    // Live messages after the catch-up carry a seq but are not "missed".
    await alice.ok("dm.send", { receiver: "Bob", text: "live" });
    const live = await bob2.expect("dm.message");
    assert.equal(live.text, "live");
    assert.equal(live.replay, undefined);
    assert.ok((live.seq as number) > seqs[2]);
  }));

Deno.test("offline - a name that never existed is still NO_SUCH_USER, and nothing is logged", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    assert.equal(await alice.fails("dm.send", { receiver: "Nobody", text: "hi" }), "NO_SUCH_USER");
    const n = await h.server.db.get<{ n: number }>("SELECT count(*) AS n FROM offline_log");
    assert.equal(n?.n, 0);
  }));

Deno.test("offline - only acks move the cursor: unacked messages come again, acked ones never", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    for (const text of ["a", "b", "c"]) await alice.ok("dm.send", { receiver: "Bob", text });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(await bob.expect("dm.message"));
    // Bob acks only the first; an ack beyond what was sent counts only up to what was sent.
    await bob.send("session.ack", { upTo: seen[0].seq });
    await bob.ok("session.quit");
    let bob2 = await back(h, "Bob");
    assert.equal((await bob2.expect("offline.summary")).count, 2);
    assert.deepEqual(
      [(await bob2.expect("dm.message")).text, (await bob2.expect("dm.message")).text],
      ["b", "c"],
    );
    await bob2.send("session.ack", { upTo: 1e12 });
    await bob2.ok("session.quit");
    await alice.ok("dm.send", { receiver: "Bob", text: "d" }); // after the clamped ack
    bob2 = await back(h, "Bob");
    assert.equal((await bob2.expect("offline.summary")).count, 1);
    assert.equal((await bob2.expect("dm.message")).text, "d");
  }));

Deno.test("offline - a pipelined burst is acked in order and delivered in order", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const n = 300;
    for (let i = 0; i < n; i++) {
      await alice.send("dm.send", { id: `m${i}`, receiver: "Bob", text: `${i}` });
    }
    await alice.send("session.ping", { id: "after" });
    let last = 0;
    for (let i = 0; i < n; i++) {
      const a = await alice.expect((f) => f.type === "ack" || f.type === "error");
      assert.equal(a.re, `m${i}`, "answers in request order");
      assert.ok((a.seq as number) > last);
      last = a.seq as number;
    }
    assert.equal((await alice.expect("ack")).re, "after");
    for (let i = 0; i < n; i++) assert.equal((await bob.expect("dm.message")).text, `${i}`);
  }));

Deno.test("offline - in a pipelined burst, refusals answered at once still wait their turn", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const n = 150; // past the 64 a connection may have waiting
    for (let i = 0; i < n; i++) {
      const receiver = i % 3 === 1 ? "Nobody" : "Bob"; // NO_SUCH_USER, known before any await
      await alice.send("dm.send", { id: `m${i}`, receiver, text: `${i}` });
    }
    await alice.send("session.ping", { id: "after" });
    for (let i = 0; i < n; i++) {
      const a = await alice.expect((f) => f.type === "ack" || f.type === "error");
      assert.deepEqual([a.re, a.type], [`m${i}`, i % 3 === 1 ? "error" : "ack"]);
    }
    assert.equal((await alice.expect("ack")).re, "after");
    for (let i = 0; i < n; i++) {
      if (i % 3 !== 1) assert.equal((await bob.expect("dm.message")).text, `${i}`);
    }
  }));

Deno.test("offline - a long backlog reaches a reader with a small send queue, then live messages, in one order", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    bob.close();
    const n = 2000;
    // 12 MB: more than the loopback socket buffers hold, so an unread catch-up really stalls.
    const text = "x".repeat(6000);
    for (let i = 0; i < n; i++) alice.send("dm.send", { receiver: "Bob", text: `${i} ${text}` });
    await alice.ok("session.ping"); // after every dm.send was committed
    // Bob logs in but does not read yet: his catch-up stalls with his send queue half full.
    const bob2 = await TestClient.connect(h.port, { read: false, caCert: h.caCert });
    await bob2.send("session.login", { id: "in", name: "Bob", password: pw("Bob") });
    await until(() => h.server.sessions.get("Bob") !== undefined);
    // Live messages sent meanwhile must come after the backlog, not in the middle of it.
    for (let j = n; j < n + 100; j++) alice.send("dm.send", { receiver: "Bob", text: `${j}` });
    await alice.ok("session.ping");
    bob2.startReading();
    assert.equal((await bob2.expect("offline.summary")).count, n);
    let seq = 0;
    for (let i = 0; i < n + 100; i++) {
      const m = await bob2.expect("dm.message");
      assert.equal(String(m.text).split(" ")[0], String(i));
      assert.ok((m.seq as number) > seq, "one stream in seq order");
      seq = m.seq as number;
    }
    assert.equal(bob2.isClosed, false, "never cut off as a slow reader");
  }, { limits: { sendQueueBytes: 64 * 1024 } }));

Deno.test("offline - /history: the last n of one conversation, oldest first, paged with before", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    for (let i = 1; i <= 6; i++) {
      const [from, to] = i % 2 ? [alice, "Bob"] : [bob, "Alice"];
      await from.ok("dm.send", { receiver: to, text: `ab${i}` });
    }
    await carol.ok("dm.send", { receiver: "Alice", text: "not between Alice and Bob" });
    await alice.expect("dm.message", (f) => f.sender === "Carol");

    const page = await alice.ok("offline.history", { with: "bob", limit: 4 });
    assert.equal(page.count, 4);
    const texts = [];
    for (let i = 0; i < 4; i++) {
      const m = await alice.expect("dm.message", (f) => f.replay === "history");
      texts.push(m.text);
    }
    assert.deepEqual(texts, ["ab3", "ab4", "ab5", "ab6"]);
    const older = await alice.ok("offline.history", { with: "Bob", before: page.oldest });
    assert.equal(older.count, 2);
    assert.equal((await alice.expect("dm.message", (f) => f.replay === "history")).text, "ab1");
    // Carol cannot read Alice and Bob's conversation: hers with Alice has only her message.
    assert.equal((await carol.ok("offline.history", { with: "Alice" })).count, 1);
    assert.equal(await alice.fails("offline.history", { with: "Nobody" }), "NO_SUCH_USER");
    assert.equal(await alice.fails("offline.history", { with: "Bob", limit: 5000 }), "BAD_FRAME");
  }));

/** A stand-in for the groups plugin: posts to a room conversation through the same log. */
const RoomPost = message("room.post", (f) => ({ text: String(f.text) }), {
  ack: (f) => ({ sent: field.number(f, "sent"), stored: field.number(f, "stored") }),
});
const RoomMessage = message("room.message", (f) => ({ ...f }) as Record<string, unknown>);
const testRoom: Plugin = {
  name: "room",
  summary: "a fixed test room of Alice, Bob and Carol",
  server(api) {
    api.on(RoomPost, ({ text }, ctx) => {
      const me = ctx.session.name!;
      const to = ["Alice", "Bob", "Carol"].filter((n) => n !== me);
      const body = { room: "lab", sender: me, text, ts: Date.now() };
      return Promise.resolve(ctx.post({ conv: "room:lab", to, spec: RoomMessage, body }))
        .then((r) => ({ sent: r.sent.length, stored: r.stored.length }));
    });
  },
};

Deno.test("offline - room posts use the same log: offline members get them on login, history by @room", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    carol.close();
    await alice.gone("Carol");
    const r = await alice.ok("room.post", { text: "Project 2 is out" });
    assert.deepEqual([r.sent, r.stored], [1, 1]);
    await bob.ok("room.post", { text: "thanks" });
    assert.equal((await bob.expect("room.message")).text, "Project 2 is out");

    const carol2 = await back(h, "Carol");
    const summary = await carol2.expect("offline.summary");
    assert.deepEqual(summary.convs, [{ with: "#lab", count: 2 }]);
    assert.equal((await carol2.expect("room.message")).text, "Project 2 is out");
    assert.equal((await carol2.expect("room.message")).text, "thanks");
    assert.equal((await carol2.ok("offline.history", { with: "@lab" })).count, 2);
    const [dave] = await h.users("Dave");
    assert.equal((await dave.ok("offline.history", { with: "#lab" })).count, 0, "not a member");
  }, { plugins: [...PLUGINS, testRoom] }));

Deno.test("offline - stored messages survive a restart; retention prunes old ones, delivered or not", async () => {
  const dir = await dataDir();
  try {
    let h = await startServer({ dataDir: dir });
    const [alice, bob] = await h.users("Alice", "Bob");
    bob.close();
    await alice.ok("dm.send", { receiver: "Bob", text: "old" });
    await alice.ok("dm.send", { receiver: "Bob", text: "new" });
    await h.close();
    // Make "old" 3 days old, as if the server had been down meanwhile.
    const db = await openTestStore(dir);
    await db.run("UPDATE offline_log SET ts = ts - 3 * 86400000 WHERE frame LIKE '%\"old\"%'");
    await db.close();

    h = await startServer({ dataDir: dir });
    let bob2 = await back(h, "Bob");
    assert.equal((await bob2.expect("offline.summary")).count, 2, "kept forever by default");
    await h.close();

    h = await startServer({ dataDir: dir, pluginOptions: { retention: ["2"] } });
    bob2 = await back(h, "Bob");
    assert.equal((await bob2.expect("offline.summary")).count, 1);
    assert.equal((await bob2.expect("dm.message")).text, "new");
    assert.equal((await bob2.ok("offline.history", { with: "Alice" })).count, 1);
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("offline - resuming with a token replaces a stale session of the same account", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const first = await h.connect();
    await first.expect("welcome");
    const { token } = await first.login("Bob");
    const second = await h.connect();
    await second.expect("welcome");
    await second.ok("session.resume", { name: "Bob", token });
    assert.equal((await first.expect("session.closing")).code, "SESSION_REPLACED");
    await alice.ok("dm.send", { receiver: "Bob", text: "to the new one" });
    assert.equal((await second.expect("dm.message")).text, "to the new one");
    // A password login is still refused while the account is online.
    const third = await h.connect();
    await third.expect("welcome");
    assert.equal(
      await third.fails("session.login", { name: "Bob", password: "bob-secret" }),
      "NAME_IN_USE",
    );
  }));
