/** The rooms-per-account limit (`serve --max-rooms-per-account`), exceeded through real TCP
 *  clients: create, join, invite and plain-text mode; the class room does not count; a
 *  restart keeps the count (memberships are stored). */
import assert from "node:assert/strict";
import { startServer, withServer } from "../harness.ts";
import { appClient } from "../app.ts";
import { MAX_ROOMS_PER_ACCOUNT } from "../../plugins/groups/limits.ts";
import { GroupList, GroupMembers } from "../../plugins/groups/protocol.ts";

const LIMIT_3 = { pluginOptions: { "max-rooms-per-account": ["3"] } };

Deno.test("groups limits - the 4th create and the 4th join are TOO_MANY_ROOMS; leaving one makes room", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    for (const room of ["b1", "b2", "b3"]) await bob.ok("groups.create", { room });
    await alice.ok("groups.create", { room: "a1" });
    await alice.ok("groups.join", { room: "b1" });
    await alice.ok("groups.join", { room: "b2" });

    const create = await alice.request("groups.create", { room: "a2" });
    assert.equal(create.code, "TOO_MANY_ROOMS");
    assert.match(String(create.message), /\b3 rooms\b/, "the message names the limit");
    assert.equal(await alice.fails("groups.join", { room: "b3" }), "TOO_MANY_ROOMS");
    assert.equal(await bob.fails("groups.join", { room: "a1" }), "TOO_MANY_ROOMS");
    // Nothing was half done: no room a2, and b3 still has only its owner.
    assert.equal(await bob.fails("groups.join", { room: "a2" }), "NO_SUCH_ROOM");
    assert.equal(
      GroupMembers.decodeAck(await bob.ok("groups.members", { room: "b3" })).members.length,
      1,
    );

    // What already holds stays fine: rejoining a room, and ROOM_EXISTS before the limit.
    assert.equal((await alice.ok("groups.join", { room: "b1" })).members, 2);
    assert.equal(await alice.fails("groups.create", { room: "B3" }), "ROOM_EXISTS");

    await alice.ok("groups.leave", { room: "b1" });
    await alice.ok("groups.join", { room: "b3" });
    assert.equal(await alice.fails("groups.join", { room: "b1" }), "TOO_MANY_ROOMS");
    // A kick frees a place too.
    await bob.ok("groups.kick", { room: "b2", name: "Alice" });
    await alice.ok("groups.create", { room: "a2" });
  }, LIMIT_3));

Deno.test("groups limits - an invite that the invitee could not use is TOO_MANY_ROOMS", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob", "Carol");
    for (const room of ["a1", "a2", "a3"]) await alice.ok("groups.create", { room });
    await bob.ok("groups.create", { room: "team", private: true });
    await bob.ok("groups.invite", { room: "team", name: "Carol" }); // Carol: no rooms yet
    await alice.ok("groups.invite", { room: "a1", name: "Alice" }); // a member already: fine
    const r = await bob.request("groups.invite", { room: "team", name: "alice" });
    assert.deepEqual(
      [r.code, r.message],
      [
        "TOO_MANY_ROOMS",
        "Alice is in 3 rooms, the most this server allows; they must leave one first",
      ],
    );
    await alice.expectNone("groups.invited");
    await alice.ok("groups.leave", { room: "a3" });
    await bob.ok("groups.invite", { room: "team", name: "Alice" });
    await alice.expect("groups.invited");
    await alice.ok("groups.join", { room: "team" });
  }, LIMIT_3));

Deno.test("groups limits - the class room does not count and is always joined, also after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-limits-" });
  try {
    // Ann is in 3 rooms before the class room exists.
    let h = await startServer({ dataDir: dir, ...LIMIT_3 });
    const [ann0] = await h.users("Ann");
    for (const room of ["r1", "r2", "r3"]) await ann0.ok("groups.create", { room });
    await h.close();

    const opts = {
      dataDir: dir,
      pluginOptions: { "max-rooms-per-account": ["3"], "class-room": ["cs350"] },
    };
    h = await startServer(opts);
    const [ann, ben] = await h.users("Ann", "Ben");
    const rooms = GroupList.decodeAck(await ann.ok("groups.list")).rooms;
    assert.deepEqual(rooms.filter((r) => r.joined).map((r) => r.room), ["cs350", "r1", "r2", "r3"]);
    assert.equal(await ann.fails("groups.create", { room: "r4" }), "TOO_MANY_ROOMS");
    // Ben, new, is in the class room and still gets 3 rooms of his own.
    for (const room of ["b1", "b2", "b3"]) await ben.ok("groups.create", { room });
    assert.equal(await ben.fails("groups.join", { room: "r1" }), "TOO_MANY_ROOMS");
    await h.close();

    // The count is rebuilt from the store; a lower limit refuses more, with both numbers.
    h = await startServer({
      ...opts,
      pluginOptions: { ...opts.pluginOptions, "max-rooms-per-account": ["2"] },
    });
    const [ann2] = await h.users("Ann");
    const r = await ann2.request("groups.join", { room: "b1" });
    assert.deepEqual(
      [r.code, r.message],
      ["TOO_MANY_ROOMS", "you are in 3 rooms, more than the 2 this server allows; leave one first"],
    );
    assert.equal(await ann2.fails("groups.leave", { room: "cs350" }), "CLASS_ROOM");
    await ann2.ok("groups.leave", { room: "r1" });
    assert.equal(await ann2.fails("groups.join", { room: "b1" }), "TOO_MANY_ROOMS");
    await ann2.ok("groups.leave", { room: "r2" });
    await ann2.ok("groups.join", { room: "b1" });
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("groups limits - plain-text (nc) /create and /join show TOO_MANY_ROOMS", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    await alice.ok("groups.create", { room: "open" });
    const nc = await h.connect();
    await nc.sendRaw("/login Carl carl-secret\n");
    await nc.expectLine(/^created account Carl$/);
    for (const room of ["c1", "c2", "c3"]) {
      await nc.sendRaw(`/create ${room}\n`);
      await nc.expectLine(new RegExp(`^created #${room}$`));
    }
    const refused = /^error TOO_MANY_ROOMS: you are in 3 rooms, the most this server allows; /;
    await nc.sendRaw("/create c4\n");
    await nc.expectLine(refused);
    await nc.sendRaw("/join open\n");
    await nc.expectLine(refused);
    await nc.sendRaw("/leave c1\n");
    await nc.expectLine(/^left #c1$/);
    await nc.sendRaw("/join open\n");
    await nc.expectLine(/^joined #open$/);
  }, LIMIT_3));

Deno.test("groups limits - the client's /create and /join show the code and the message", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    await alice.ok("groups.create", { room: "open" });
    const dana = await appClient(h, "Dana");
    for (const room of ["d1", "d2", "d3"]) {
      dana.type(`/create ${room}`);
      await dana.waitFor(new RegExp(`created #${room}`));
    }
    let from = dana.out.length;
    dana.type("/create d4");
    const line = await dana.waitFor(/TOO_MANY_ROOMS/, from);
    assert.match(line, /you are in 3 rooms, the most this server allows; leave one first/);
    from = dana.out.length;
    dana.type("/join open");
    await dana.waitFor(/TOO_MANY_ROOMS.*you are in 3 rooms/, from);
    await dana.app.quit();
  }, LIMIT_3));

Deno.test("groups limits - --max-rooms-per-account takes a whole number from 1 to 100000", () => {
  const read = (v: string) => MAX_ROOMS_PER_ACCOUNT.read([v]);
  for (const ok of ["1", "3", "100", "100000"]) assert.equal(read(ok), Number(ok), ok);
  for (const bad of ["0", "-1", "100001", "2.5", "1e3", "", " 5", "lots"]) {
    assert.throws(() => read(bad), /^Error: expected a whole number from 1 to 100000$/, bad);
  }
});
