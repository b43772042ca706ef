/**
 * Presence: /who lists everyone online; join and leave notices go only to the people a user
 * shares a room (not the class room) or a conversation with, and notices to one person within
 * the presence window go out as one frame.
 */
import assert from "node:assert/strict";
import { type Harness, type TestClient, withServer } from "../harness.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import { presence } from "../../plugins/presence/mod.ts";
import { changesText } from "../../plugins/presence/protocol.ts";

const isPresence = (f: RawFrame) => f.type.startsWith("presence.") && f.type !== "presence.who";

/** A fresh connection logged in as `name` (an account made earlier). */
async function back(h: Harness, name: string): Promise<TestClient> {
  const c = await h.connect();
  await c.expect("welcome");
  await c.login(name);
  return c;
}

/** How many accounts' logins the frames report. */
function joinedIn(frames: RawFrame[]): number {
  return frames.reduce(
    (n, f) =>
      n +
      (f.type === "presence.joined"
        ? 1
        : f.type === "presence.changes"
        ? Number(f.joinedCount)
        : 0),
    0,
  );
}

Deno.test("presence - who lists everyone online, sorted", () =>
  withServer(async (h) => {
    const [carol] = await h.users("carol", "Alice", "Bob");
    assert.deepEqual((await carol.ok("presence.who")).users, ["Alice", "Bob", "carol"]);
  }));

Deno.test("presence - a login and a logout are told to a room-mate and a DM partner, not to someone who shares only the class room; who still lists everyone", () =>
  withServer(async (h) => {
    const [alice, bob, erin] = await h.users("Alice", "Bob", "Erin");
    const carol = await back(h, "Carol");
    await alice.ok("groups.create", { room: "lab" });
    await carol.ok("groups.join", { room: "lab" });
    await carol.ok("dm.send", { receiver: "Bob", text: "hi Bob" });
    carol.close();
    assert.equal((await alice.expect("presence.left")).name, "Carol", "a room-mate");
    assert.equal((await bob.expect("presence.left")).name, "Carol", "a DM partner");

    const carol2 = await back(h, "Carol");
    assert.equal((await alice.expect("presence.joined")).name, "Carol");
    assert.equal((await bob.expect("presence.joined")).name, "Carol");
    await carol2.expectNone("presence.joined");
    await erin.expectNone("presence.joined", 500);
    assert.deepEqual(erin.frames.filter(isPresence), [], "Erin shares only the class room");
    assert.deepEqual((await erin.ok("presence.who")).users, ["Alice", "Bob", "Carol", "Erin"]);
  }, { pluginOptions: { "class-room": ["cs350"] } }));

Deno.test("presence - connections that never log in are not announced or listed", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const lurker = await h.connect();
    await lurker.expect("welcome");
    lurker.close();
    await alice.expectNone("presence.left");
    assert.deepEqual((await alice.ok("presence.who")).users, ["Alice"]);
  }));

const BURST = 30;
const WINDOW_MS = 400;

Deno.test(`presence - a burst of ${BURST} logins reaches a room-mate in one frame per ${WINDOW_MS} ms window, not ${BURST}; a login after the window is told at once`, () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    await alice.ok("groups.create", { room: "lab" });
    const names = Array.from({ length: BURST }, (_, i) => `s${i}`);
    for (const c of await h.users(...names)) {
      await c.ok("groups.join", { room: "lab" });
      c.close();
    }
    await alice.expect("groups.joined", (f) => f.name === names.at(-1));
    while (alice.frames.length || ((await alice.ok("presence.who")).users as string[]).length > 1) {
      alice.frames.length = 0; // the members' leaving, told to Alice (coalesced too)
      await new Promise((r) => setTimeout(r, WINDOW_MS));
    }
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS)); // Alice's window closes

    const t0 = performance.now();
    const burst = await Promise.all(names.map((n) => back(h, n)));
    const took = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS)); // the last window closes
    const frames = alice.frames.filter(isPresence);
    assert.equal(joinedIn(frames), BURST, "every login is reported, once");
    // The first at once, then at most one per window while they keep coming.
    const bound = 2 + Math.ceil(took / WINDOW_MS);
    assert.ok(frames.length <= bound, `${frames.length} frames for ${BURST} logins in ${took} ms`);
    const combined = frames.find((f) => f.type === "presence.changes")!;
    assert.equal((combined.joined as string[]).length, 5, "names listed; the rest counted");

    // Alice's window has closed: the next login is told at once, on its own.
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS));
    alice.frames.length = 0;
    burst[0].close();
    const t1 = performance.now();
    assert.equal((await alice.expect("presence.left")).name, "s0");
    assert.ok(performance.now() - t1 < WINDOW_MS, "not held for a window");
  }, { pluginOptions: { "presence-window": [String(WINDOW_MS)] } }));

Deno.test("presence - a combined notice reads as one line; --presence-window takes 0 to 60000 ms", () => {
  assert.equal(
    changesText({ joined: ["Ann", "Ben"], left: ["Cy"], joinedCount: 14, leftCount: 1 }),
    "Ann, Ben and 12 others joined; Cy left",
  );
  assert.equal(
    changesText({ joined: ["Ann", "Ben", "Cy"], left: [], joinedCount: 3, leftCount: 0 }),
    "Ann, Ben and Cy joined",
  );
  const window = presence.options![0];
  assert.equal(window.read(["0"]), 0);
  assert.equal(window.read(["60000"]), 60000);
  assert.throws(() => window.read(["60001"]), /0 to 60000/);
  assert.throws(() => window.read(["1.5"]), /whole number/);
});
