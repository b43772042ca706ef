/**
 * A sealed message that opens to something the client refuses to show (a control character,
 * which the server could not see inside the seal) is reported with whose it was.
 */
import assert from "node:assert/strict";
import { withServer } from "../harness.ts";
import { keyProxy, proxiedClient } from "../key_proxy.ts";
import { generateIdentity, seal } from "../../plugins/encrypt/crypto.ts";

Deno.test("encrypt - a sealed message refused after opening (BAD_FRAME) says whose it was", () =>
  withServer(async (h) => {
    const proxy = keyProxy(h.port);
    try {
      const alice = await proxiedClient(h, proxy, "Alice");
      const bob = await proxiedClient(h, proxy, "Bob");
      bob.type("Alice: hello");
      await alice.waitFor(/^Bob: hello$/);
      const forger = await generateIdentity();
      const to = proxy.published.get("alice")!;
      const parties = {
        sender: "Bob",
        senderKey: forger.publicKey,
        receiver: "Alice",
        receiverKey: to,
      };
      const sealed = await seal({
        ...parties,
        myPrivate: forger.privateKey,
        text: "ring \u0007 ring",
      });
      await proxy.inject("Alice", {
        type: "dm.message",
        sender: "Bob",
        receiver: "Alice",
        sealed: { ...sealed, from: forger.publicKey, to },
        ts: Date.now(),
      });
      const line = await alice.waitFor(/^! BAD_FRAME: /);
      assert.match(line, /Bob/);
      assert.ok(!alice.out.some((l) => l.includes("\u0007")));
    } finally {
      await proxy.close();
    }
  }, { tls: false }));
