/** A room's founder through real TCP clients against a real server: the account that created
 *  the room is an owner no other owner can kick, who may always come back (issue 16). */
import assert from "node:assert/strict";
import { openTestStore, startServer, type TestClient, withServer } from "../harness.ts";
import { GroupMembers } from "../../plugins/groups/protocol.ts";

const membersOf = async (c: TestClient, room: string) =>
  GroupMembers.decodeAck(await c.ok("groups.members", { room })).members;
/** [name, owner, founder] per member, as the listing gives them. */
const roles = async (c: TestClient, room: string) =>
  (await membersOf(c, room)).map((m) => [m.name, m.owner, m.founder]);

/** Alice founds the private room "team", invites Bob in and makes him an owner. */
async function privateRoomWithOp(alice: TestClient, bob: TestClient) {
  await alice.ok("groups.create", { room: "team", private: true });
  await alice.ok("groups.invite", { room: "team", name: "Bob" });
  await bob.ok("groups.join", { room: "team" });
  await alice.ok("groups.op", { room: "team", name: "Bob" });
}

Deno.test("groups founder - an owner made with /op cannot kick the founder, who stays and is listed as founder", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    await alice.ok("groups.create", { room: "team", private: true });
    for (const c of [bob, carol]) {
      await alice.ok("groups.invite", { room: "team", name: c === bob ? "Bob" : "Carol" });
      await c.ok("groups.join", { room: "team" });
    }
    await alice.ok("groups.op", { room: "team", name: "Bob" });

    const refused = await bob.request("groups.kick", { room: "team", name: "ALICE" });
    assert.equal(refused.code, "NOT_ALLOWED");
    assert.match(String(refused.message), /Alice/, "the refusal names the founder");
    await alice.expectNone("groups.kicked");
    assert.deepEqual(await roles(carol, "team"), [
      ["Alice", true, true],
      ["Bob", true, false],
      ["Carol", false, false],
    ]);
    await alice.ok("groups.send", { room: "team", text: "still here" });
    assert.equal((await bob.expect("groups.message")).text, "still here");
    // Owners made with /op moderate everyone else as before, each other included.
    await bob.ok("groups.kick", { room: "team", name: "Carol" });
    await carol.expect("groups.kicked");
    // Opping the founder changes nothing: she is an owner already.
    await bob.ok("groups.op", { room: "team", name: "Alice" });
    await alice.expectNone("groups.opped");

    // Plain-text mode tells the founder from the other owners.
    const nc = await h.connect();
    await nc.sendRaw("/login Dan dan-secret\n");
    await nc.expectLine(/^created account Dan$/);
    await alice.ok("groups.invite", { room: "team", name: "Dan" });
    await nc.sendRaw("/join team\n");
    await nc.expectLine(/^joined #team$/);
    await nc.sendRaw("/members team\n");
    await nc.expectLine(/^#team: Alice \(founder\), Bob \(owner\), Dan$/);
  }));

Deno.test("groups founder - leaves her private room and rejoins it uninvited, an owner again; kept across a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-founder-" });
  try {
    let h = await startServer({ dataDir: dir });
    const [alice, bob] = await h.users("Alice", "Bob");
    await privateRoomWithOp(alice, bob);
    await alice.ok("groups.leave", { room: "team" });
    assert.deepEqual(await roles(bob, "team"), [["Bob", true, false]]);
    await alice.ok("groups.join", { room: "team" });
    assert.deepEqual(await roles(bob, "team"), [["Alice", true, true], ["Bob", true, false]]);
    await h.close();

    h = await startServer({ dataDir: dir });
    const [bob2, alice2] = await h.users("Bob", "Alice");
    assert.equal(await bob2.fails("groups.kick", { room: "team", name: "Alice" }), "NOT_ALLOWED");
    await alice2.ok("groups.leave", { room: "team" });
    await alice2.ok("groups.join", { room: "TEAM" });
    // Back as an owner: she may moderate, the op Bob included.
    await alice2.ok("groups.kick", { room: "team", name: "Bob" });
    assert.equal((await bob2.expect("groups.kicked")).by, "Alice");
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("groups founder - a server admin may kick the founder, who then stays out until invited", () =>
  withServer(async (h) => {
    const [alice, bob, prof] = await h.users("Alice", "Bob", "Prof");
    await privateRoomWithOp(alice, bob);
    await prof.ok("groups.kick", { room: "team", name: "Alice" });
    assert.equal((await alice.expect("groups.kicked")).by, "Prof");
    assert.equal(await alice.fails("groups.join", { room: "team" }), "KICKED");
    assert.equal(await alice.fails("groups.send", { room: "team", text: "x" }), "KICKED");
    await bob.ok("groups.invite", { room: "team", name: "Alice" });
    await alice.ok("groups.join", { room: "team" });
    assert.deepEqual(await roles(bob, "team"), [["Alice", true, true], ["Bob", true, false]]);
  }, { admins: ["Prof"] }));

Deno.test("groups founder - a founder kicked by an op before the fix may rejoin her private room", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-founder-old-" });
  try {
    let h = await startServer({ dataDir: dir });
    const [alice, bob] = await h.users("Alice", "Bob");
    await privateRoomWithOp(alice, bob);
    await h.close();
    // The store as the old server left it after Bob kicked Alice.
    const db = await openTestStore(dir);
    await db.run("DELETE FROM groups_members WHERE account = 'Alice'");
    await db.run(
      "INSERT INTO groups_access (room_key, account, state, by_name, at)" +
        " VALUES ('team', 'alice', 'kicked', 'Bob', 0)",
    );
    await db.close();

    h = await startServer({ dataDir: dir });
    const [alice2, bob2] = await h.users("Alice", "Bob");
    await alice2.ok("groups.join", { room: "team" });
    assert.deepEqual(await roles(bob2, "team"), [["Alice", true, true], ["Bob", true, false]]);
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("groups founder - the class room, made by the server, has no founder", () =>
  withServer(async (h) => {
    const [ann, prof] = await h.users("Ann", "Prof");
    await prof.ok("groups.op", { room: "cs350", name: "Ann" });
    assert.deepEqual(await roles(ann, "cs350"), [["Ann", true, false], ["Prof", false, false]]);
  }, { admins: ["Prof"], pluginOptions: { "class-room": ["cs350"] } }));
