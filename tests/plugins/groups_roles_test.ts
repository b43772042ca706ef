/** Room roles through real TCP clients against a real server: owners and server admins, kick,
 *  op, invite, announce-only, private rooms, and the class room every account is in. */
import assert from "node:assert/strict";
import { startServer, type TestClient, withServer } from "../harness.ts";
import { GroupList, GroupMembers } from "../../plugins/groups/protocol.ts";

const roomsOf = async (c: TestClient) => GroupList.decodeAck(await c.ok("groups.list")).rooms;
const membersOf = async (c: TestClient, room: string) =>
  GroupMembers.decodeAck(await c.ok("groups.members", { room })).members;

Deno.test("groups - kick: only owners and admins; the kicked member is told, stays out, and an invite lets them back", () =>
  withServer(async (h) => {
    const [alice, bob, carol, prof] = await h.users("Alice", "Bob", "Carol", "Prof");
    await alice.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    await carol.ok("groups.join", { room: "lab" });

    assert.equal(await bob.fails("groups.kick", { room: "lab", name: "Carol" }), "NOT_ALLOWED");
    assert.equal(await alice.fails("groups.kick", { room: "lab", name: "Nobody" }), "NO_SUCH_USER");
    assert.equal(await alice.fails("groups.kick", { room: "lab", name: "Prof" }), "NOT_A_MEMBER");
    assert.equal(await alice.fails("groups.kick", { room: "lab", name: "Alice" }), "NOT_ALLOWED");
    assert.equal(await alice.fails("groups.kick", { room: "nope", name: "Bob" }), "NO_SUCH_ROOM");

    const kicked = await alice.ok("groups.kick", { room: "LAB", name: "bob" });
    assert.deepEqual([kicked.room, kicked.name], ["lab", "Bob"]);
    assert.deepEqual(await bob.expect("groups.kicked"), {
      type: "groups.kicked",
      room: "lab",
      by: "Alice",
    });
    const left = await carol.expect("groups.left");
    assert.deepEqual([left.name, left.by], ["Bob", "Alice"]);

    // Out, and kept out: posting and rejoining both say why.
    const post = await bob.request("groups.send", { room: "lab", text: "still here?" });
    assert.deepEqual([post.code, post.message], ["KICKED", "you were kicked from #lab by Alice"]);
    assert.equal(await bob.fails("groups.join", { room: "lab" }), "KICKED");
    await alice.ok("groups.send", { room: "lab", text: "after the kick" });
    assert.equal((await carol.expect("groups.message")).text, "after the kick");
    await bob.expectNone("groups.message");

    // An invitation lifts the kick.
    assert.equal(await carol.fails("groups.invite", { room: "lab", name: "Bob" }), "NOT_ALLOWED");
    await alice.ok("groups.invite", { room: "lab", name: "Bob" });
    assert.deepEqual([(await bob.expect("groups.invited")).by], ["Alice"]);
    await bob.ok("groups.join", { room: "lab" });
    assert.equal((await carol.expect("groups.joined")).name, "Bob");
    // Prof is not an admin here: neither owner nor member, so no power over the room.
    assert.equal(await prof.fails("groups.kick", { room: "lab", name: "Bob" }), "NOT_ALLOWED");
  }));

Deno.test("groups - server admins moderate every room; owners cannot kick an admin", () =>
  withServer(async (h) => {
    const [alice, bob, prof] = await h.users("Alice", "Bob", "Prof");
    await alice.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    // Prof is neither member nor owner, but an admin.
    await prof.ok("groups.kick", { room: "lab", name: "Bob" });
    assert.equal((await bob.expect("groups.kicked")).by, "Prof");
    await prof.ok("groups.join", { room: "lab" });
    assert.equal(await alice.fails("groups.kick", { room: "lab", name: "prof" }), "NOT_ALLOWED");
    assert.deepEqual(await membersOf(alice, "lab"), [
      { name: "Alice", online: true, owner: true, founder: true, admin: false },
      { name: "Prof", online: true, owner: false, founder: false, admin: true },
    ]);
    // An admin may kick an owner.
    await prof.ok("groups.kick", { room: "lab", name: "Alice" });
    assert.equal(await alice.fails("groups.send", { room: "lab", text: "hi" }), "KICKED");
  }, { admins: ["prof"] }));

Deno.test("groups - op makes a member an owner, who may then moderate", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    await alice.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    await carol.ok("groups.join", { room: "lab" });
    assert.equal(await bob.fails("groups.op", { room: "lab", name: "Bob" }), "NOT_ALLOWED");
    assert.equal(await bob.fails("groups.announce", { room: "lab", on: true }), "NOT_ALLOWED");
    assert.equal(await alice.fails("groups.op", { room: "lab", name: "Nobody" }), "NO_SUCH_USER");
    await h.users("Dave");
    assert.equal(await alice.fails("groups.op", { room: "lab", name: "Dave" }), "NOT_A_MEMBER");

    await alice.ok("groups.op", { room: "lab", name: "bob" });
    for (const c of [bob, carol]) {
      const o = await c.expect("groups.opped");
      assert.deepEqual([o.room, o.name, o.by], ["lab", "Bob", "Alice"]);
    }
    await bob.ok("groups.kick", { room: "lab", name: "Carol" });
    await carol.expect("groups.kicked");
    assert.deepEqual((await membersOf(alice, "lab")).map((m) => m.owner), [true, true]);
  }));

Deno.test("groups - announce-only: only owners and admins post; members are told when it changes", () =>
  withServer(async (h) => {
    const [alice, bob, prof] = await h.users("Alice", "Bob", "Prof");
    await alice.ok("groups.create", { room: "news" });
    await bob.ok("groups.join", { room: "news" });
    await prof.ok("groups.join", { room: "news" });
    assert.deepEqual((await alice.ok("groups.announce", { room: "news", on: true })).on, true);
    const mode = await bob.expect("groups.mode");
    assert.deepEqual([mode.room, mode.announce, mode.by], ["news", true, "Alice"]);

    const refused = await bob.request("groups.send", { room: "news", text: "can I?" });
    assert.equal(refused.code, "ANNOUNCE_ONLY");
    await alice.expectNone("groups.message");
    await prof.expectNone("groups.message");
    assert.equal(await bob.fails("groups.announce", { room: "news", on: false }), "NOT_ALLOWED");

    await alice.ok("groups.send", { room: "news", text: "from the owner" });
    await prof.ok("groups.send", { room: "news", text: "from an admin" });
    assert.deepEqual(
      [(await bob.expect("groups.message")).text, (await bob.expect("groups.message")).text],
      ["from the owner", "from an admin"],
    );
    assert.equal((await roomsOf(bob))[0].announce, true);

    await prof.ok("groups.announce", { room: "news", on: false });
    assert.deepEqual([(await bob.expect("groups.mode")).announce], [false]);
    await bob.ok("groups.send", { room: "news", text: "now I can" });
    assert.equal((await alice.expect("groups.message")).text, "from an admin");
    assert.equal((await alice.expect("groups.message")).text, "now I can");
    assert.equal(await bob.fails("groups.announce", { room: "news", on: "yes" }), "BAD_FRAME");
  }, { admins: ["Prof"] }));

Deno.test("groups - private rooms: hidden from outsiders, joined only by invitation", () =>
  withServer(async (h) => {
    const [alice, bob, carol, prof] = await h.users("Alice", "Bob", "Carol", "Prof");
    assert.equal(
      (await alice.ok("groups.create", { room: "team1", private: true })).private,
      true,
    );
    await alice.ok("groups.create", { room: "open" });
    const names = async (c: TestClient) => (await roomsOf(c)).map((r) => r.room);
    assert.deepEqual(await names(bob), ["open"]);
    assert.deepEqual(await names(prof), ["open", "team1"], "admins see every room");
    assert.equal(await bob.fails("groups.join", { room: "team1" }), "INVITE_ONLY");
    assert.equal(await bob.fails("groups.members", { room: "team1" }), "NOT_A_MEMBER");
    assert.equal(await bob.fails("groups.send", { room: "team1", text: "x" }), "NOT_A_MEMBER");
    assert.equal(await bob.fails("groups.create", { room: "x", private: "yes" }), "BAD_FRAME");

    await alice.ok("groups.invite", { room: "team1", name: "Bob" });
    assert.equal((await bob.expect("groups.invited")).room, "team1");
    const seen = (await roomsOf(bob)).find((r) => r.room === "team1")!;
    assert.deepEqual([seen.private, seen.invited, seen.joined], [true, true, false]);
    await bob.ok("groups.join", { room: "team1" });
    assert.equal(await carol.fails("groups.join", { room: "team1" }), "INVITE_ONLY");
    await prof.ok("groups.join", { room: "team1" }); // an admin needs no invitation
    await alice.ok("groups.send", { room: "team1", text: "team only" });
    assert.equal((await bob.expect("groups.message")).text, "team only");
    assert.equal((await prof.expect("groups.message")).text, "team only");
    await carol.expectNone("groups.message");
  }, { admins: ["Prof"] }));

Deno.test("groups - class room: every account is in it (old and new), announce-only, cannot be left; roles survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-class-" });
  try {
    // Accounts that exist before the class room is configured.
    let h = await startServer({ dataDir: dir });
    const [ann0] = await h.users("Ann", "Ben");
    await ann0.ok("groups.create", { room: "side", private: true });
    await h.close();

    const opts = { dataDir: dir, admins: ["Prof"], pluginOptions: { "class-room": ["CS350"] } };
    h = await startServer(opts);
    const [prof, ann] = await h.users("Prof", "Ann");
    // Prof is new: he joins at his first login (told to the room's moderators: himself only).
    const classRoom = async () => (await roomsOf(ann)).find((r) => r.room === "CS350")!;
    for (let i = 0; (await classRoom()).members < 3; i++) {
      assert.ok(i < 100, "Prof never joined the class room");
      await new Promise((r) => setTimeout(r, 20));
    }
    const info = await classRoom();
    assert.deepEqual(
      [info.members, info.joined, info.announce, info.class],
      [3, true, true, true],
      "Ann, Ben (offline) and the new Prof",
    );
    const cara = (await h.users("Cara"))[0];
    assert.equal((await prof.expect("groups.joined")).name, "Cara");
    await ann.expectNone("groups.joined");
    assert.equal(await cara.fails("groups.leave", { room: "cs350" }), "CLASS_ROOM");
    assert.equal(await cara.fails("groups.send", { room: "cs350", text: "hi" }), "ANNOUNCE_ONLY");
    const ack = await prof.ok("groups.send", { room: "cs350", text: "Welcome to CS350" });
    assert.deepEqual([ack.sent, ack.stored], [2, 1], "Ben is offline");
    assert.equal((await cara.expect("groups.message")).text, "Welcome to CS350");
    // A kicked account is not put back; an owner made by /op stays one.
    await prof.ok("groups.kick", { room: "cs350", name: "Cara" });
    await prof.ok("groups.op", { room: "cs350", name: "Ann" });
    await h.close();

    h = await startServer(opts);
    const [ben, cara2, ann2] = await h.users("Ben", "Cara", "Ann");
    assert.equal((await ben.expect("groups.message")).text, "Welcome to CS350");
    await ann2.ok("groups.send", { room: "cs350", text: "from Ann, owner now" });
    assert.equal((await ben.expect("groups.message")).text, "from Ann, owner now");
    assert.equal(await ben.fails("groups.send", { room: "cs350", text: "me?" }), "ANNOUNCE_ONLY");
    assert.equal(await cara2.fails("groups.send", { room: "cs350", text: "back" }), "KICKED");
    assert.deepEqual((await roomsOf(cara2)).map((r) => r.room), ["CS350"], "side is private");
    const members = await membersOf(ben, "cs350");
    assert.deepEqual(members.map((m) => m.name), ["Ann", "Ben", "Prof"]);
    assert.deepEqual(members.map((m) => [m.owner, m.admin]), [[true, false], [false, false], [
      false,
      true,
    ]]);
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
