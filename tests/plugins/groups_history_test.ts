/**
 * A room's past for a new member: the room's last posts they never received (at most
 * --join-history), pushed as history with their post ids, then groups.welcome; nothing they
 * had is sent again, and what is posted after the join comes once, live.
 */
import assert from "node:assert/strict";
import { type Harness, startServer, type TestClient, withServer } from "../harness.ts";
import { DEFAULT_JOIN_HISTORY } from "../../plugins/groups/limits.ts";
import { GROUPS_MIGRATIONS } from "../../plugins/groups/migrations.ts";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";
import { openSqlite } from "../../core/server/storage/sqlite.ts";
import { migrate } from "../../core/server/storage/migrate.ts";

async function back(h: Harness, name: string): Promise<TestClient> {
  const c = await h.connect();
  await c.expect("welcome");
  await c.login(name);
  return c;
}

/** The room posts `c` was given as history, up to its groups.welcome. */
async function history(c: TestClient, room: string) {
  const welcome = await c.expect("groups.welcome", (f) => f.room === room);
  const past = c.frames.filter((f) => f.type === "groups.message" && f.replay === "history");
  c.frames.splice(0, c.frames.length, ...c.frames.filter((f) => !past.includes(f)));
  assert.equal(welcome.history, past.length);
  return { welcome, texts: past.map((f) => String(f.text)), seqs: past.map((f) => Number(f.seq)) };
}

Deno.test(`groups history - a member joining after ${DEFAULT_JOIN_HISTORY + 10} posts gets the last ${DEFAULT_JOIN_HISTORY} as history, oldest first, then later posts once, live`, () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("groups.create", { room: "lab" });
    const n = DEFAULT_JOIN_HISTORY + 10;
    for (let i = 0; i < n; i++) await alice.ok("groups.send", { room: "lab", text: `p${i}` });
    await bob.ok("groups.join", { room: "lab" });
    const past = await history(bob, "lab");
    assert.deepEqual(
      past.texts,
      Array.from({ length: DEFAULT_JOIN_HISTORY }, (_, i) => `p${i + 10}`),
    );
    assert.ok(past.seqs.every((s, i) => i === 0 || s > past.seqs[i - 1]), "in seq order");
    await alice.ok("groups.send", { room: "lab", text: "live" });
    const live = await bob.expect("groups.message");
    assert.deepEqual([live.text, live.replay], ["live", undefined]);
    await bob.expectNone("groups.message");
  }));

Deno.test("groups history - only a first join gets the past: one who left gets nothing from while they were away, never the same post twice", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    await alice.ok("groups.create", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "first" });
    await bob.ok("groups.join", { room: "lab" });
    assert.deepEqual((await history(bob, "lab")).texts, ["first"]);
    await alice.ok("groups.send", { room: "lab", text: "before" });
    assert.equal((await bob.expect("groups.message")).text, "before");
    await bob.ok("groups.send", { room: "lab", text: "mine" });
    await bob.ok("groups.leave", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "while away" });
    await bob.ok("groups.join", { room: "lab" });
    await bob.expectNone("groups.welcome");
    await bob.expectNone("groups.message");
    // Nor does the founder, coming back to their own room.
    await alice.ok("groups.leave", { room: "lab" });
    await bob.ok("groups.send", { room: "lab", text: "alice was away" });
    await alice.ok("groups.join", { room: "lab" });
    await alice.expectNone("groups.welcome");
    await carol.ok("groups.create", { room: "quiet" });
    await alice.ok("groups.join", { room: "quiet" });
    await alice.expectNone("groups.welcome");
  }));

Deno.test("groups history - a member kicked from a private room and invited back is not given what was posted while they were out", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("groups.create", { room: "staff", private: true });
    await alice.ok("groups.invite", { room: "staff", name: "Bob" });
    await bob.ok("groups.join", { room: "staff" });
    await alice.ok("groups.kick", { room: "staff", name: "Bob" });
    await alice.ok("groups.send", { room: "staff", text: "SECRET" });
    await alice.ok("groups.invite", { room: "staff", name: "Bob" });
    await bob.ok("groups.join", { room: "staff" });
    await bob.expectNone("groups.welcome");
    assert.ok(!bob.frames.some((f) => f.text === "SECRET"), "SECRET reached Bob");
    await alice.ok("groups.send", { room: "staff", text: "welcome back" });
    assert.equal((await bob.expect("groups.message")).text, "welcome back");
  }));

Deno.test("groups history - who was a member is remembered across a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-history-" });
  try {
    let h = await startServer({ dataDir: dir });
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    await bob.ok("groups.leave", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "while away" });
    await h.close();

    h = await startServer({ dataDir: dir });
    const [bob2] = await h.users("Bob");
    await bob2.ok("groups.join", { room: "lab" });
    await bob2.expectNone("groups.welcome");
    assert.ok(!bob2.frames.some((f) => f.text === "while away"), "given while away");
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("groups history - with --join-history 2 a new member gets 2; with 0 none", async () => {
  for (const [limit, want] of [["2", ["p2", "p3"]], ["0", []]] as const) {
    await withServer(async (h) => {
      const [alice, bob] = await h.users("Alice", "Bob");
      await alice.ok("groups.create", { room: "lab" });
      for (let i = 0; i < 4; i++) await alice.ok("groups.send", { room: "lab", text: `p${i}` });
      await bob.ok("groups.join", { room: "lab" });
      if (want.length) assert.deepEqual((await history(bob, "lab")).texts, want);
      else await bob.expectNone("groups.welcome");
    }, { pluginOptions: { "join-history": [limit] } });
  }
});

Deno.test("groups history - an account made mid-term gets the class room's announcements at its first login; only moderators are told it joined", () =>
  withServer(async (h) => {
    const [prof, sam] = await h.users("Prof", "Sam");
    await prof.ok("groups.send", { room: "cs350", text: "Syllabus: see the course page" });
    await prof.ok("groups.send", { room: "cs350", text: "Lab 1 is due Friday" });
    const late = await back(h, "Late");
    // Its joining is told to the room's moderators, not to every student.
    assert.equal((await prof.expect("groups.joined", (f) => f.name !== "Sam")).name, "Late");
    await sam.expectNone("groups.joined");
    const past = await history(late, "cs350");
    assert.deepEqual(past.texts, ["Syllabus: see the course page", "Lab 1 is due Friday"]);
    // The log's catch-up does not send them again: they were never the newcomer's to miss.
    const summary = await late.expect("offline.summary");
    assert.equal(summary.count, 0);
    await late.expectNone("groups.message");
  }, { admins: ["Prof"], pluginOptions: { "class-room": ["cs350"] } }));

Deno.test(`groups history - ${DEFAULT_JOIN_HISTORY} of the longest posts, more than the send queue holds, reach a new member (no faster than they read)`, () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("groups.create", { room: "lab" });
    // 8,000 characters of 3 UTF-8 bytes: 24 KB a post, 1.2 MB in all, over the 1 MiB queue.
    const long = (i: number) => `${i}`.padEnd(DEFAULT_LIMITS.maxTextLength, "界");
    for (let i = 0; i < DEFAULT_JOIN_HISTORY; i++) {
      await alice.ok("groups.send", { room: "lab", text: long(i) });
    }
    await bob.ok("groups.join", { room: "lab" });
    const past = await history(bob, "lab");
    assert.equal(past.texts.length, DEFAULT_JOIN_HISTORY);
    assert.equal(past.texts.at(-1), long(DEFAULT_JOIN_HISTORY - 1));
    assert.equal((await bob.ok("presence.who")).type, "ack", "still connected");
  }));

Deno.test("groups history - upgrading the store remembers who was in a room: members, accounts given a past, accounts kicked", async () => {
  const db = openSqlite(":memory:");
  try {
    await migrate(db, "groups", GROUPS_MIGRATIONS.slice(0, 3));
    await db.run(
      "INSERT INTO groups_rooms (room_key, name, created_by, created_at) VALUES ('lab', 'lab', 'Alice', 0)",
    );
    await db.run(
      "INSERT INTO groups_members (room_key, account, joined_at) VALUES ('lab', 'Alice', 0)",
    );
    await db.run("INSERT INTO groups_given (room_key, account, seq) VALUES ('lab', 'bob', 7)");
    await db.run(
      "INSERT INTO groups_access (room_key, account, state, by_name, at) VALUES" +
        " ('lab', 'carol', 'kicked', 'Alice', 0), ('lab', 'dave', 'invited', 'Alice', 0)",
    );
    await migrate(db, "groups", GROUPS_MIGRATIONS);
    const ever = await db.all<{ account: string }>(
      "SELECT account FROM groups_ever WHERE room_key = 'lab' ORDER BY account",
    );
    assert.deepEqual(ever.map((r) => r.account), ["alice", "bob", "carol"]);
  } finally {
    await db.close();
  }
});
