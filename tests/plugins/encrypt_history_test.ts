import assert from "node:assert/strict";
import { withServer } from "../harness.ts";
import { appClient } from "../app.ts";

Deno.test("encrypt - /history opens sealed messages on both sides: the sender reads its own", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    const bob = await appClient(h, "Bob");
    alice.type("Bob: sealed question from Alice");
    await bob.waitFor(/^Alice: sealed question from Alice$/);
    bob.type("Alice: sealed answer from Bob");
    await alice.waitFor(/^Bob: sealed answer from Bob$/);
    for (const [me, peer] of [[alice, "Bob"], [bob, "Alice"]] as const) {
      const from = me.out.length;
      me.type(`/history ${peer}`);
      await me.waitFor(/^\* end of history/, from);
      const shown = me.out.slice(from).join("\n");
      assert.match(shown, /sealed question from Alice/);
      assert.match(shown, /sealed answer from Bob/);
      assert.doesNotMatch(shown, /E2E_FAILED|another key/);
    }
  }));

Deno.test("encrypt - a message to a name with no account says so, not that it goes unencrypted", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    alice.type("Zed: hello?");
    const line = await alice.waitFor(/^! /);
    assert.match(line, /^! NO_SUCH_USER: /);
    assert.ok(!alice.out.some((l) => /no key yet/.test(l)), alice.out.join("\n"));
  }));

Deno.test("encrypt - an unsealed direct message carries a small mark; a sealed one none", () =>
  withServer(async (h) => {
    const alice = await appClient(h, "Alice");
    const carol = await appClient(h, "Carol");
    const [bob] = await h.users("Bob"); // a client without encryption
    await bob.ok("dm.send", { receiver: "Alice", text: "plain hello" });
    await alice.waitFor(/^Bob: \[unencrypted\] plain hello$/);
    carol.type("Alice: sealed hello");
    await alice.waitFor(/^Carol: sealed hello$/);
  }));
