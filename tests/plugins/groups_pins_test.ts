/**
 * Pinned posts: owners and server admins pin a room's latest post or a post by its id, members
 * list them (/pins), new members are shown them on joining, and they survive a restart.
 */
import assert from "node:assert/strict";
import { startServer, type TestClient, withServer } from "../harness.ts";
import { DEFAULT_MAX_PINS } from "../../plugins/groups/limits.ts";

type Pin = { seq: number; sender: string; text: string; by: string };
const texts = async (c: TestClient, room: string) =>
  ((await c.ok("groups.pins", { room })).pins as { text: string }[]).map((p) => p.text);

Deno.test("groups pins - only owners and admins pin (NOT_ALLOWED); the latest post or one by id; /pins lists them; members are told", () =>
  withServer(async (h) => {
    const [alice, bob, prof] = await h.users("Alice", "Bob", "Prof");
    assert.equal(await alice.fails("groups.pin", { room: "lab" }), "NO_SUCH_ROOM");
    await alice.ok("groups.create", { room: "lab" });
    assert.equal(await alice.fails("groups.pin", { room: "lab" }), "NO_SUCH_POST", "no posts yet");
    await bob.ok("groups.join", { room: "lab" });
    const first = await alice.ok("groups.send", { room: "lab", text: "Meeting on Tuesdays" });
    await bob.ok("groups.send", { room: "lab", text: "ok" });
    await alice.ok("groups.send", { room: "lab", text: "Repo: git.example/lab" });

    assert.equal(await bob.fails("groups.pin", { room: "lab" }), "NOT_ALLOWED");
    assert.equal(await bob.fails("groups.pin", { room: "lab", seq: first.seq }), "NOT_ALLOWED");
    const pinned = (await alice.ok("groups.pin", { room: "lab" })).pin as Pin;
    assert.deepEqual(
      [pinned.text, pinned.sender, pinned.by],
      ["Repo: git.example/lab", "Alice", "Alice"],
    );
    const told = await bob.expect("groups.pinned");
    assert.equal((told.pin as Pin).text, "Repo: git.example/lab");
    await prof.ok("groups.pin", { room: "lab", seq: first.seq }); // a server admin
    await prof.ok("groups.pin", { room: "lab", seq: first.seq }); // twice is once
    assert.equal(await alice.fails("groups.pin", { room: "lab", seq: 99999 }), "NO_SUCH_POST");
    assert.equal(await alice.fails("groups.pin", { room: "lab", seq: -1 }), "BAD_FRAME");
    assert.deepEqual(await texts(bob, "lab"), ["Repo: git.example/lab", "Meeting on Tuesdays"]);

    assert.equal(await bob.fails("groups.unpin", { room: "lab", seq: first.seq }), "NOT_ALLOWED");
    await alice.ok("groups.unpin", { room: "lab", seq: first.seq });
    assert.equal(
      await alice.fails("groups.unpin", { room: "lab", seq: first.seq }),
      "NO_SUCH_POST",
      "not pinned any more",
    );
    assert.deepEqual(await texts(bob, "lab"), ["Repo: git.example/lab"]);
  }, { admins: ["Prof"] }));

Deno.test("groups pins - a private room's pins are for its members", () =>
  withServer(async (h) => {
    const [alice, eve] = await h.users("Alice", "Eve");
    await alice.ok("groups.create", { room: "team", private: true });
    await alice.ok("groups.send", { room: "team", text: "secret plan" });
    await alice.ok("groups.pin", { room: "team" });
    assert.equal(await eve.fails("groups.pins", { room: "team" }), "NOT_A_MEMBER");
  }));

Deno.test(`groups pins - a room holds ${DEFAULT_MAX_PINS} pins: one more is TOO_MANY_PINS until one is unpinned`, () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    await alice.ok("groups.create", { room: "lab" });
    const seqs: number[] = [];
    for (let i = 0; i <= DEFAULT_MAX_PINS; i++) {
      seqs.push(Number((await alice.ok("groups.send", { room: "lab", text: `p${i}` })).seq));
    }
    for (const seq of seqs.slice(0, DEFAULT_MAX_PINS)) {
      await alice.ok("groups.pin", { room: "lab", seq });
    }
    assert.equal(await alice.fails("groups.pin", { room: "lab" }), "TOO_MANY_PINS");
    await alice.ok("groups.unpin", { room: "lab", seq: seqs[0] });
    await alice.ok("groups.pin", { room: "lab" });
    assert.equal((await texts(alice, "lab")).length, DEFAULT_MAX_PINS);
  }));

Deno.test("groups pins - survive a restart, and a new member is shown them on joining", async () => {
  const dir = await Deno.makeTempDir({ prefix: "classchat-pins-" });
  try {
    let h = await startServer({ dataDir: dir });
    const [alice] = await h.users("Alice");
    await alice.ok("groups.create", { room: "lab" });
    await alice.ok("groups.send", { room: "lab", text: "Read the rules first" });
    await alice.ok("groups.pin", { room: "lab" });
    await h.close();

    h = await startServer({ dataDir: dir, pluginOptions: { "join-history": ["0"] } });
    const [alice2, carol] = await h.users("Alice", "Carol");
    assert.deepEqual(await texts(alice2, "lab"), ["Read the rules first"]);
    await carol.ok("groups.join", { room: "lab" });
    const welcome = await carol.expect("groups.welcome");
    assert.equal(welcome.history, 0);
    assert.deepEqual(
      (welcome.pins as Pin[]).map((p) => [p.text, p.by]),
      [["Read the rules first", "Alice"]],
    );
    await h.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
