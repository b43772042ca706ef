/** The groups plugin through real TCP clients against a real server: rooms, membership,
 *  posts, order, restart (moderation and the class room: groups_roles_test.ts). */
import assert from "node:assert/strict";
import { startServer, withServer } from "../harness.ts";

Deno.test("groups - create, join, post: members online see it at once, the sender gets counts", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    assert.equal((await alice.ok("groups.create", { room: "#CS350" })).room, "CS350");
    assert.equal(await bob.fails("groups.create", { room: "cs350" }), "ROOM_EXISTS");
    assert.equal((await bob.ok("groups.join", { room: "cs350" })).members, 2);
    assert.equal((await alice.expect("groups.joined")).name, "Bob");
    const ack = await alice.ok("groups.send", { room: "@cs350", text: "Project 2 is out" });
    assert.deepEqual([ack.room, ack.sent, ack.stored], ["CS350", 1, 0]);
    const m = await bob.expect("groups.message");
    assert.deepEqual([m.room, m.sender, m.text], ["CS350", "Alice", "Project 2 is out"]);
    assert.equal(typeof m.seq, "number");
    assert.equal(await carol.fails("groups.send", { room: "cs350", text: "hi" }), "NOT_A_MEMBER");
    await carol.expectNone("groups.message");
    assert.equal(await carol.fails("groups.join", { room: "nope" }), "NO_SUCH_ROOM");
    assert.equal(await carol.fails("groups.create", { room: "bad name!" }), "BAD_ROOM_NAME");
    assert.equal(await carol.fails("groups.create", { room: "x".repeat(33) }), "BAD_ROOM_NAME");
    assert.equal(await carol.fails("groups.leave", { room: "cs350" }), "NOT_A_MEMBER");

    const list = await carol.ok("groups.list");
    assert.deepEqual(list.rooms, [{
      room: "CS350",
      members: 2,
      online: 2,
      joined: false,
      private: false,
      announce: false,
      invited: false,
      class: false,
    }]);
    const members = await carol.ok("groups.members", { room: "cs350" });
    assert.deepEqual(members.members, [
      { name: "Alice", online: true, owner: true, founder: true, admin: false },
      { name: "Bob", online: true, owner: false, founder: false, admin: false },
    ]);
    await bob.ok("groups.leave", { room: "cs350" });
    assert.equal((await alice.expect("groups.left")).name, "Bob");
    assert.deepEqual((await alice.ok("groups.send", { room: "cs350", text: "alone" })).sent, 0);
  }));

Deno.test("groups - one order per room: 3 concurrent posters x 50 messages, every member sees the same order", () =>
  withServer(async (h) => {
    const users = await h.users("P1", "P2", "P3", "R1", "R2");
    await users[0].ok("groups.create", { room: "lab" });
    for (const u of users.slice(1)) await u.ok("groups.join", { room: "lab" });
    const posters = users.slice(0, 3);
    await Promise.all(posters.map(async (p, i) => {
      for (let k = 0; k < 50; k++) await p.send("groups.send", { room: "lab", text: `p${i}-${k}` });
      await p.ok("session.ping");
    }));
    const seen = async (c: (typeof users)[0], own: string | undefined) => {
      const n = own === undefined ? 150 : 100;
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(String((await c.expect("groups.message")).text));
      return out;
    };
    const r1 = await seen(users[3], undefined);
    const r2 = await seen(users[4], undefined);
    assert.deepEqual(r1, r2, "both readers see one order");
    for (const [i, p] of posters.entries()) {
      const theirs = await seen(p, `p${i}`);
      assert.deepEqual(theirs, r1.filter((t) => !t.startsWith(`p${i}-`)), "posters too");
      // Each poster's own messages keep their order.
      const mine = r1.filter((t) => t.startsWith(`p${i}-`));
      assert.deepEqual(mine, Array.from({ length: 50 }, (_, k) => `p${i}-${k}`));
    }
  }));

Deno.test("groups - membership is the account's: it survives a restart, and members away get posts on login", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-groups-" });
  try {
    let h = await startServer({ dataDir: dir });
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("groups.create", { room: "cs350" });
    await bob.ok("groups.join", { room: "cs350" });
    await h.close();

    h = await startServer({ dataDir: dir });
    const [alice2] = await h.users("Alice");
    const ack = await alice2.ok("groups.send", { room: "cs350", text: "while Bob was away" });
    assert.deepEqual([ack.sent, ack.stored], [0, 1]);
    const [bob2] = await h.users("Bob");
    assert.deepEqual((await bob2.expect("offline.summary")).convs, [{ with: "#cs350", count: 1 }]);
    const m = await bob2.expect("groups.message");
    assert.deepEqual([m.text, m.replay], ["while Bob was away", "missed"]);
    assert.equal((await bob2.ok("offline.history", { with: "#cs350" })).count, 1);
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("groups - plain-text (nc) mode: /create, /join, @room, /rooms, /members, moderation, errors", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const nc = await h.connect();
    await nc.sendRaw("/login Carl carl-secret\n");
    await nc.expectLine(/^created account Carl$/);
    await alice.ok("groups.create", { room: "cs350" });

    await nc.sendRaw("/join cs350\n");
    await nc.expectLine(/^joined #cs350$/);
    assert.equal((await alice.expect("groups.joined")).name, "Carl");
    await nc.sendRaw("@cs350 hello from nc\n");
    await nc.expectLine(/^posted to #cs350 \(1 now, 0 later\)$/);
    assert.equal((await alice.expect("groups.message")).text, "hello from nc");
    await alice.ok("groups.send", { room: "cs350", text: "hi Carl" });
    await nc.expectLine(/^\[#cs350\] Alice: hi Carl$/);

    await nc.sendRaw("/create side --private\n");
    await nc.expectLine(/^created #side \(private\)$/);
    await nc.sendRaw("/rooms\n");
    await nc.expectLine(/^#cs350 {2}2 members, 2 online \(you are in it\)$/);
    await nc.expectLine(/^#side {2}1 member, 1 online \(private, you are in it\)$/);
    await nc.sendRaw("server:groups\n"); // the course's name for the same list
    await nc.expectLine(/^#cs350 {2}2 members, 2 online \(you are in it\)$/);
    await nc.sendRaw("/members cs350\n");
    await nc.expectLine(/^#cs350: Alice \(founder\), Carl$/);
    await nc.sendRaw("/invite side Alice\n");
    await nc.expectLine(/^ok: Alice, #side$/);
    assert.equal((await alice.expect("groups.invited")).by, "Carl");

    // Errors are readable lines with their code.
    await nc.sendRaw("/kick cs350 Alice\n");
    await nc.expectLine(/^error NOT_ALLOWED: only an owner of #cs350/);
    await nc.sendRaw("/join bad!name\n");
    await nc.expectLine(/^error BAD_ROOM_NAME: /);
    await nc.sendRaw("@nowhere hi\n");
    await nc.expectLine(/^error NO_SUCH_ROOM: /);

    await alice.ok("groups.announce", { room: "cs350", on: true });
    await nc.expectLine(/^\* Alice made #cs350 announce-only$/);
    await nc.sendRaw("@cs350 may I?\n");
    await nc.expectLine(/^error ANNOUNCE_ONLY: /);
    await alice.ok("groups.kick", { room: "cs350", name: "Carl" });
    await nc.expectLine(/^error KICKED: you were kicked from #cs350 by Alice$/);
    await nc.sendRaw("/leave cs350\n");
    await nc.expectLine(/^error NOT_A_MEMBER: /);
    await nc.sendRaw("/announce side on\n");
    await nc.expectLine(/^#side is announce-only$/);
  }));
