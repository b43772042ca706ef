import assert from "node:assert/strict";
import { TestClient, withServer } from "../harness.ts";

Deno.test("slow consumer - a client that stops reading never delays the others, and is cut off", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    // Slow logs in, then never reads its socket again.
    const slow = await TestClient.connect(h.port, { read: false });
    await slow.send("session.login", { id: "l", name: "Slow" });
    for (const c of [alice, bob, carol]) {
      await c.expect("presence.joined", (f) => f.name === "Slow");
    }

    // Alice floods Slow (about 24 MB, far beyond socket buffers and Slow's 256 KiB queue) while
    // Bob and Carol keep chatting; each of their messages must arrive while the flood goes on.
    const text = "z".repeat(8000);
    let cutOff = false;
    const flood = (async () => {
      for (let i = 0; i < 3000 && !cutOff; i++) {
        await alice.send("dm.send", { receiver: "Slow", text });
        if (i % 100 === 99) await alice.ok("session.ping"); // Alice herself is never stalled
      }
    })();
    for (let i = 0; i < 20; i++) {
      await bob.ok("dm.send", { receiver: "Carol", text: `b${i}` });
      assert.equal((await carol.expect("dm.message")).text, `b${i}`);
      await carol.ok("dm.send", { receiver: "Bob", text: `c${i}` });
      assert.equal((await bob.expect("dm.message")).text, `c${i}`);
    }
    const left = await bob.expect("presence.left", (f) => f.name === "Slow", 20_000);
    cutOff = true;
    assert.equal(left.reason, "SEND_QUEUE_EXCEEDED");
    await flood;
    // Everyone else is still connected and served.
    assert.deepEqual((await carol.ok("presence.who")).users, ["Alice", "Bob", "Carol"]);
    slow.close();
  }, { limits: { sendQueueBytes: 256 * 1024, maxTextLength: 8000 } }));
