import assert from "node:assert/strict";
import { withServer } from "../harness.ts";

Deno.test("dm - messages go both ways with sender, receiver, text and a timestamp", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const before = Date.now();
    const ack = await alice.ok("dm.send", { receiver: "Bob", text: "hi Bob" });
    assert.equal(ack.status, "sent");
    const m = await bob.expect("dm.message");
    assert.deepEqual([m.sender, m.receiver, m.text], ["Alice", "Bob", "hi Bob"]);
    assert.ok(typeof m.ts === "number" && m.ts >= before && m.ts <= Date.now());
    assert.equal(m.ts, ack.ts);

    await bob.ok("dm.send", { receiver: "Alice", text: "hi Alice 👋" });
    const back = await alice.expect("dm.message");
    assert.deepEqual([back.sender, back.text], ["Bob", "hi Alice 👋"]);
  }));

Deno.test("dm - receiver names are case-insensitive and answered with the real spelling", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const ack = await alice.ok("dm.send", { receiver: "bOB", text: "x" });
    assert.equal(ack.receiver, "Bob");
    assert.equal((await bob.expect("dm.message")).receiver, "Bob");
  }));

Deno.test("dm - an unknown receiver is NO_SUCH_USER and nobody receives anything", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    assert.equal(await alice.fails("dm.send", { receiver: "Carol", text: "hi" }), "NO_SUCH_USER");
    await bob.expectNone("dm.message");
  }));

Deno.test("dm - text longer than the limit is TEXT_TOO_LONG; at the limit it passes", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    assert.equal(
      await alice.fails("dm.send", { receiver: "Bob", text: "x".repeat(101) }),
      "TEXT_TOO_LONG",
    );
    await alice.ok("dm.send", { receiver: "Bob", text: "y".repeat(100) });
    assert.equal((await bob.expect("dm.message")).text, "y".repeat(100));
  }, { limits: { maxTextLength: 100 } }));

Deno.test("dm - control characters that could forge lines or repaint terminals, and lone surrogates, are BAD_FRAME", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const bad = [
      "two\nlines",
      "cr\rhere",
      "\x1b[2Jcleared",
      "nul\0",
      "c1\u009b",
      "\ud83d",
      "x\udc00",
    ];
    for (const text of bad) {
      assert.equal(await alice.fails("dm.send", { receiver: "Bob", text }), "BAD_FRAME", text);
    }
    await alice.ok("dm.send", { receiver: "Bob", text: "tab\tis fine, ünïcode too 😀" });
    assert.equal((await bob.expect("dm.message")).text, "tab\tis fine, ünïcode too 😀");
  }));

Deno.test("dm - one sender's messages arrive in the order sent", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const n = 200;
    for (let i = 0; i < n; i++) {
      await alice.send("dm.send", { id: `m${i}`, receiver: "Bob", text: `${i}` });
    }
    for (let i = 0; i < n; i++) {
      assert.equal((await bob.expect("dm.message")).text, `${i}`);
    }
  }));
