import assert from "node:assert/strict";
import { withServer } from "../harness.ts";

Deno.test("presence - who lists everyone online, sorted", () =>
  withServer(async (h) => {
    const [carol] = await h.users("carol", "Alice", "Bob");
    assert.deepEqual((await carol.ok("presence.who")).users, ["Alice", "Bob", "carol"]);
  }));

Deno.test("presence - a login is announced to everyone else, not to the newcomer", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const carol = await h.connect();
    await carol.login("Carol");
    assert.equal((await alice.expect("presence.joined")).name, "Carol");
    assert.equal((await bob.expect("presence.joined")).name, "Carol");
    await carol.expectNone("presence.joined");
  }));

Deno.test("presence - connections that never log in are not announced or listed", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    const lurker = await h.connect();
    await lurker.expect("welcome");
    lurker.close();
    await alice.expectNone("presence.left");
    assert.deepEqual((await alice.ok("presence.who")).users, ["Alice"]);
  }));
