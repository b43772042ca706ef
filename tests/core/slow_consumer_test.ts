import assert from "node:assert/strict";
import { pw, testCertificate, TestClient, withServer } from "../harness.ts";
import type { ServerSession } from "../../core/session.ts";

const MiB = 1024 * 1024;

Deno.test("slow consumer - a client that stops reading never delays the others, and is cut off", () =>
  withServer(async (h) => {
    const [alice, bob, carol] = await h.users("Alice", "Bob", "Carol");
    // Slow logs in, then never reads its socket again.
    const caCert = (await testCertificate()).cert;
    const slow = await TestClient.connect(h.port, { read: false, caCert });
    await slow.send("session.login", { id: "l", name: "Slow", password: pw("Slow") });
    for (const c of [alice, bob, carol]) {
      await c.expect("presence.joined", (f) => f.name === "Slow");
    }
    const slowSession = h.server.sessions.get("Slow") as ServerSession;
    const text = "z".repeat(8000);

    // 1. Alice writes to Slow until the socket buffers are full and Slow's queue is backing up.
    for (let i = 0; slowSession.outbox.queuedBytes === 0; i++) {
      assert.ok(i < 5000, "Slow's queue never backed up");
      await alice.send("dm.send", { receiver: "Slow", text });
      if (i % 100 === 99) await alice.ok("session.ping"); // Alice herself is never stalled
    }
    // 2. With Slow stuck, Bob and Carol chat; each message is delivered while Slow still waits.
    for (let i = 0; i < 20; i++) {
      await bob.ok("dm.send", { receiver: "Carol", text: `b${i}` });
      assert.equal((await carol.expect("dm.message")).text, `b${i}`);
      await carol.ok("dm.send", { receiver: "Bob", text: `c${i}` });
      assert.equal((await bob.expect("dm.message")).text, `c${i}`);
    }
    assert.equal(h.server.sessions.get("Slow"), slowSession, "Slow was still connected throughout");
    assert.ok(slowSession.outbox.queuedBytes > 0);

    // 3. Alice goes on; Slow's queue passes its bound and Slow is cut off, with the reason.
    for (let i = 0; h.server.sessions.get("Slow") === slowSession; i++) {
      assert.ok(i < 2000, "Slow was never cut off");
      await alice.send("dm.send", { receiver: "Slow", text });
    }
    const left = await bob.expect("presence.left", (f) => f.name === "Slow");
    assert.equal(left.reason, "SEND_QUEUE_EXCEEDED");
    assert.ok(slowSession.outbox.queuedBytes <= 4 * MiB, "the queue never grew past its bound");
    // Everyone else is still connected and served; Slow's name is free again.
    assert.deepEqual((await carol.ok("presence.who")).users, ["Alice", "Bob", "Carol"]);
    assert.equal(await alice.fails("dm.send", { receiver: "Slow", text: "?" }), "NO_SUCH_USER");
    slow.close();
  }, { limits: { sendQueueBytes: 4 * MiB, maxTextLength: 8000 } }));
