import assert from "node:assert/strict";
import { pw, withServer } from "../harness.ts";
import { PROTOCOL_VERSION } from "../../protocol/limits.ts";
import { PLUGINS } from "../../plugins/mod.ts";

Deno.test("server - greets every connection with a welcome frame", () =>
  withServer(async (h) => {
    const c = await h.connect();
    const w = await c.expect("welcome");
    assert.equal(w.protocol, PROTOCOL_VERSION);
    assert.equal(w.server, "ClassChat");
    // The enabled plugins, in plugins/mod.ts order (the list is not the core's to know).
    assert.deepEqual(w.plugins, PLUGINS.map((p) => p.name));
    assert.equal((w.limits as Record<string, number>).maxFrameBytes, 64 * 1024);
  }));

Deno.test("server - a taken name is refused case-insensitively, and the client can pick another", () =>
  withServer(async (h) => {
    await h.users("Alice");
    const c = await h.connect();
    assert.equal(
      await c.fails("session.login", { name: "alice", password: pw("alice") }),
      "NAME_IN_USE",
    );
    assert.equal((await c.login("Alice2")).name, "Alice2");
  }));

Deno.test("server - names that break the rules are BAD_NAME", () =>
  withServer(async (h) => {
    const c = await h.connect();
    for (const name of ["", "a b", "-dash", "x".repeat(33), "server", "SERVER", "ali:ce", "é"]) {
      assert.equal(await c.fails("session.login", { name, password: pw("x") }), "BAD_NAME", name);
    }
    assert.equal(await c.fails("session.login", { name: 5, password: pw("x") }), "BAD_FRAME");
    await c.login("Dr.Yuan");
    assert.equal(
      await c.fails("session.login", { name: "Other", password: pw("Other") }),
      "ALREADY_LOGGED_IN",
    );
  }, { limits: { maxNameLength: 32 } }));

Deno.test("server - name length limit is configurable and enforced", () =>
  withServer(async (h) => {
    const c = await h.connect();
    assert.equal(await c.fails("session.login", { name: "abcdef", password: pw("x") }), "BAD_NAME");
    await c.login("abcde");
  }, { limits: { maxNameLength: 5 } }));

Deno.test("server - frames before login are NOT_LOGGED_IN; ping works before login", () =>
  withServer(async (h) => {
    const c = await h.connect();
    assert.equal(await c.fails("dm.send", { receiver: "x", text: "hi" }), "NOT_LOGGED_IN");
    assert.equal(await c.fails("presence.who"), "NOT_LOGGED_IN");
    await c.ok("session.ping");
  }));

Deno.test("server - invalid JSON, bad shapes and unknown types get error codes; the connection stays usable", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    await alice.sendRaw("{not json\n");
    assert.equal((await alice.expect("error")).code, "BAD_JSON");
    await alice.sendRaw("[1,2,3]\n");
    assert.equal((await alice.expect("error")).code, "BAD_JSON");
    await alice.sendRaw('{"type":42}\n');
    assert.equal((await alice.expect("error")).code, "BAD_FRAME");
    assert.equal(await alice.fails("nosuch.thing"), "UNKNOWN_TYPE");
    assert.equal(await alice.fails("dm.send", { receiver: ["x"], text: "hi" }), "BAD_FRAME");
    await alice.sendRaw(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d, 0x0a])); // "{\xff\xfe}\n"
    assert.equal((await alice.expect("error")).code, "BAD_UTF8");
    // An error for a frame without an id carries no "re"; with an id it names the request.
    await alice.send("nosuch.thing");
    const e = await alice.expect("error");
    assert.equal(e.code, "UNKNOWN_TYPE");
    assert.equal(e.re, undefined);
    assert.ok(!String(e.message).includes("at "), "no stack traces to clients");
    // Still the same session, still logged in.
    assert.deepEqual((await alice.ok("presence.who")).users, ["Alice"]);
  }));

Deno.test("server - a line over the frame cap is refused with FRAME_TOO_LARGE; the next line works", () =>
  withServer(async (h) => {
    const [alice] = await h.users("Alice");
    await alice.sendRaw("x".repeat(2000) + "\n");
    assert.equal((await alice.expect("error")).code, "FRAME_TOO_LARGE");
    await alice.ok("session.ping");
  }, { limits: { maxFrameBytes: 1024 } }));

Deno.test("server - session.quit acks, closes, frees the name, and tells the others", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await bob.ok("dm.send", { receiver: "Alice", text: "bye" }); // related: Alice is told
    await bob.ok("session.quit");
    await bob.closed;
    const left = await alice.expect("presence.left");
    assert.deepEqual([left.name, left.reason], ["Bob", "quit"]);
    // The name is free again for its account, which keeps the case it was registered with.
    const [bob2] = await h.users("bob");
    assert.deepEqual((await bob2.ok("presence.who")).users, ["Alice", "Bob"]);
  }));

Deno.test("server - a dropped connection frees the name with reason disconnected", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    await bob.ok("dm.send", { receiver: "Alice", text: "hi" }); // related: Alice is told
    bob.close();
    const left = await alice.expect("presence.left");
    assert.deepEqual([left.name, left.reason], ["Bob", "disconnected"]);
    assert.equal(h.server.sessions.get("bob"), undefined);
  }));

Deno.test("server - shutdown tells every client why before closing", async () => {
  const { startServer } = await import("../harness.ts");
  const h = await startServer();
  const [alice, bob] = await h.users("Alice", "Bob");
  await bob.ok("dm.send", { receiver: "Alice", text: "hi" }); // related: each would be told
  const anon = await h.connect();
  await anon.expect("welcome");
  await h.server.close();
  assert.equal((await alice.expect("session.closing")).code, "SERVER_SHUTDOWN");
  assert.equal((await bob.expect("session.closing")).code, "SERVER_SHUTDOWN");
  assert.equal((await anon.expect("session.closing")).code, "SERVER_SHUTDOWN");
  await alice.closed;
  await bob.closed;
  // Nobody is told of everyone else leaving: n x n notices would swamp a large shutdown.
  assert.equal(
    [...alice.frames, ...bob.frames].filter((f) => f.type === "presence.left").length,
    0,
  );
  await h.close();
});

Deno.test("server - many clients at once are each served", () =>
  withServer(async (h) => {
    const names = Array.from({ length: 30 }, (_, i) => `user${i}`);
    const clients = await Promise.all(names.map(async (name) => {
      const c = await h.connect();
      await c.login(name);
      return c;
    }));
    await Promise.all(clients.map((c, i) =>
      c.ok("dm.send", { receiver: names[(i + 1) % names.length], text: `from ${i}` })
    ));
    for (let i = 0; i < clients.length; i++) {
      const from = (i + names.length - 1) % names.length;
      assert.equal((await clients[i].expect("dm.message")).text, `from ${from}`);
    }
  }));
