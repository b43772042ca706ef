/**
 * Room posts in the message log: who gets them is decided by membership spans (offline_span),
 * one row per member per stretch of membership instead of one per post. Checked through a real
 * server and its SQLite file: joining late, leaving and rejoining, own posts, the order with
 * direct messages, history, retention and the upgrade from per-post recipient rows.
 */
import assert from "node:assert/strict";
import {
  type Harness,
  openTestStore,
  startServer,
  type TestClient,
  withServer,
} from "../harness.ts";
import { migrate } from "../../core/server/storage/migrate.ts";
import { OFFLINE_MIGRATIONS } from "../../plugins/offline/store.ts";

async function back(h: Harness, name: string): Promise<TestClient> {
  const c = await h.connect();
  await c.expect("welcome");
  await c.login(name);
  return c;
}

/** Takes `n` message frames (room or direct) and returns their texts. */
async function texts(c: TestClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = await c.expect((f) => f.type === "groups.message" || f.type === "dm.message");
    out.push(String(f.text));
  }
  return out;
}

Deno.test("offline rooms - a member gets the posts of the stretches it was a member, in seq order with its direct messages", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    await alice.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "p1" });
    await bob.ok("groups.send", { room: "lab", text: "b1" }); // Bob's own: history, not missed
    await bob.ok("groups.leave", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "p2 while Bob is out" });
    await bob.ok("groups.join", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "p3" });
    bob.close();
    await alice.expect("presence.left", (f) => f.name === "Bob");
    await alice.ok("dm.send", { receiver: "Bob", text: "d1" });
    await alice.ok("groups.send", { room: "lab", text: "p4" });
    await carol.ok("groups.join", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "p5" });
    carol.close();

    // Bob never acked anything, so his catch-up starts at the beginning of the log.
    const bob2 = await back(h, "Bob");
    const summary = await bob2.expect("offline.summary");
    assert.deepEqual(summary.convs, [{ with: "#lab", count: 4 }, { with: "Alice", count: 1 }]);
    assert.deepEqual(await texts(bob2, 5), ["p1", "p3", "d1", "p4", "p5"]);
    await bob2.ok("offline.history", { with: "#lab" });
    assert.deepEqual(await texts(bob2, 5), ["p1", "b1", "p3", "p4", "p5"]);

    // Carol joined late: only what was posted since.
    const carol2 = await back(h, "Carol");
    assert.deepEqual((await carol2.expect("offline.summary")).convs, [{ with: "#lab", count: 1 }]);
    assert.deepEqual(await texts(carol2, 1), ["p5"]);
    assert.equal((await carol2.ok("offline.history", { with: "#lab" })).count, 1);
  }));

Deno.test("offline rooms - a post to a room of 20 writes no per-member rows; spans survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-spans-" });
  try {
    let h = await startServer({ dataDir: dir });
    const names = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const members = await h.users(...names);
    await members[0].ok("groups.create", { room: "big" });
    for (const m of members.slice(1)) await m.ok("groups.join", { room: "big" });
    for (let i = 0; i < 20; i++) await members[0].ok("groups.send", { room: "big", text: `${i}` });
    await h.close();
    let db = await openTestStore(dir);
    const count = async (sql: string) => Number((await db.get(sql))!.n);
    assert.equal(await count("SELECT count(*) AS n FROM offline_log"), 20);
    assert.equal(await count("SELECT count(*) AS n FROM offline_rcpt"), 0);
    assert.equal(await count("SELECT count(*) AS n FROM offline_span"), 19, "an open span each");
    await db.close();

    // After a restart the open spans are known again: a new post adds no rows either.
    h = await startServer({ dataDir: dir });
    const [m0, m7] = await h.users("m0", "m7");
    await m0.ok("groups.send", { room: "big", text: "after restart" });
    assert.equal(
      (await m7.expect("groups.message", (f) => f.text === "after restart")).room,
      "big",
    );
    await h.close();
    db = await openTestStore(dir);
    assert.equal(await count("SELECT count(*) AS n FROM offline_span"), 19);
    await db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("offline rooms - a store written with per-post recipient rows is upgraded to spans", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-upgrade-" });
  try {
    // The log as the first version of the offline plugin wrote it.
    const db = await openTestStore(dir);
    await migrate(db, "offline", OFFLINE_MIGRATIONS.slice(0, 1));
    const put = async (conv: string, sender: string, text: string, to: string[]) => {
      const type = conv.startsWith("room:") ? "groups.message" : "dm.message";
      const frame = type === "dm.message"
        ? { type, sender, receiver: to[0], text, ts: Date.now() }
        : { type, room: "lab", sender, text, ts: Date.now() };
      const { lastId } = await db.run(
        "INSERT INTO offline_log (conv, sender, ts, frame) VALUES (?, ?, ?, ?)",
        [conv, sender, Date.now(), JSON.stringify(frame)],
      );
      for (const a of to) await db.run("INSERT INTO offline_rcpt VALUES (?, ?)", [a, lastId]);
    };
    await put("room:lab", "Alice", "old 1", ["bob"]);
    await put("dm:alice:bob", "Alice", "old dm", ["bob"]);
    await put("room:lab", "Alice", "old 2", ["bob"]);
    await db.close();

    const h = await startServer({ dataDir: dir });
    try {
      const [bob] = await h.users("Bob");
      assert.deepEqual((await bob.expect("offline.summary")).count, 3);
      assert.deepEqual(await texts(bob, 3), ["old 1", "old dm", "old 2"]);
    } finally {
      await h.close();
    }
    const after = await openTestStore(dir);
    const spans = await after.all("SELECT account, conv, first_seq, last_seq FROM offline_span");
    assert.deepEqual(spans.map((s) => ({ ...s })), [
      { account: "bob", conv: "room:lab", first_seq: 1, last_seq: 3 },
    ]);
    assert.equal(Number((await after.get("SELECT count(*) AS n FROM offline_rcpt"))!.n), 1);
    await after.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
