/**
 * Pinned posts: owners and server admins pin a room's latest post or a post by its id, members
 * list them (/pins), new members are shown them on joining, and they survive a restart.
 */
import assert from "node:assert/strict";
import { startServer, type TestClient, withServer } from "../harness.ts";
import {
  DEFAULT_MAX_PINS,
  MAX_PINS_CEILING,
  PINNED_TEXT_BUDGET,
} from "../../plugins/groups/limits.ts";
import { groups } from "../../plugins/groups/mod.ts";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";

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

Deno.test("groups pins - unpinning is told to the members online, as pinning is", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await alice.ok("groups.create", { room: "lab" });
    await bob.ok("groups.join", { room: "lab" });
    const { seq } = await alice.ok("groups.send", { room: "lab", text: "Due Friday" });
    await alice.ok("groups.pin", { room: "lab" });
    await bob.expect("groups.pinned");
    await alice.ok("groups.unpin", { room: "lab", seq });
    const told = await bob.expect("groups.unpinned");
    assert.deepEqual([told.room, told.seq, told.by], ["lab", seq, "Alice"]);
    await alice.expectNone("groups.unpinned");
  }));

Deno.test(`groups pins - a room's pinned texts hold ${PINNED_TEXT_BUDGET} characters in all: one more is TOO_MANY_PINS`, () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    await alice.ok("groups.create", { room: "lab" });
    const max = DEFAULT_LIMITS.maxTextLength;
    const fit = Math.floor(PINNED_TEXT_BUDGET / max);
    for (let i = 0; i < fit; i++) {
      await alice.ok("groups.send", { room: "lab", text: `${i}`.padEnd(max, "x") });
      await alice.ok("groups.pin", { room: "lab" });
    }
    const left = PINNED_TEXT_BUDGET - fit * max;
    await alice.ok("groups.send", { room: "lab", text: "y".repeat(left + 1) });
    assert.equal(await alice.fails("groups.pin", { room: "lab" }), "TOO_MANY_PINS");
    if (left > 0) {
      await alice.ok("groups.send", { room: "lab", text: "z".repeat(left) });
      await alice.ok("groups.pin", { room: "lab" });
    }
    const all = (await alice.ok("groups.pins", { room: "lab" })).pins as { text: string }[];
    assert.equal(all.reduce((n, p) => n + p.text.length, 0), PINNED_TEXT_BUDGET);
  }));

Deno.test(`groups pins - --max-pins takes 1 to ${MAX_PINS_CEILING}`, () => {
  const def = groups.options!.find((o) => o.flag.startsWith("--max-pins"))!;
  for (const ok of ["1", "20", `${MAX_PINS_CEILING}`]) assert.equal(def.read([ok]), Number(ok));
  for (const bad of ["0", `${MAX_PINS_CEILING + 1}`, "1000"]) assert.throws(() => def.read([bad]));
});

Deno.test("groups pins - owners pinning at once cannot pass --max-pins", () =>
  withServer(async (h) => {
    const names = ["Alice", "Bob", "Carol", "Dan", "Erin", "Fay"];
    const owners = await h.users(...names);
    const [alice] = owners;
    await alice.ok("groups.create", { room: "lab" });
    for (let i = 1; i < owners.length; i++) {
      await owners[i].ok("groups.join", { room: "lab" });
      await alice.ok("groups.op", { room: "lab", name: names[i] });
    }
    const seqs: number[] = [];
    for (let i = 0; i < owners.length; i++) {
      seqs.push(Number((await alice.ok("groups.send", { room: "lab", text: `p${i}` })).seq));
    }
    const answers = await Promise.all(
      owners.map((o, i) => o.request("groups.pin", { room: "lab", seq: seqs[i] })),
    );
    assert.equal(answers.filter((a) => a.type === "ack").length, 2);
    assert.equal((await texts(alice, "lab")).length, 2);
  }, { pluginOptions: { "max-pins": ["2"] } }));
