import assert from "node:assert/strict";
import { pw, testCertificate, TestClient, withServer } from "../harness.ts";
import type { ServerSession } from "../../core/session.ts";

const MiB = 1024 * 1024;

Deno.test("slow consumer - a client that stops reading never delays the others, is cut off, and gets everything when it comes back", () =>
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
    const text = "z".repeat(7990); // a number goes in front

    // 1. Alice writes to Slow until the socket buffers are full and Slow's queue is backing up.
    let sent = 0;
    for (let i = 0; slowSession.outbox.queuedBytes === 0; i++) {
      assert.ok(i < 5000, "Slow's queue never backed up");
      // Each acked, so delivered: deliveries follow the log's commit.
      await alice.ok("dm.send", { receiver: "Slow", text: `${sent++} ${text}` });
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
      await alice.send("dm.send", { receiver: "Slow", text: `${sent++} ${text}` });
    }
    const left = await bob.expect("presence.left", (f) => f.name === "Slow");
    assert.equal(left.reason, "SEND_QUEUE_EXCEEDED");
    assert.ok(slowSession.outbox.queuedBytes <= 4 * MiB, "the queue never grew past its bound");
    // Everyone else is still connected and served; Slow's name is free again.
    assert.deepEqual((await carol.ok("presence.who")).users, ["Alice", "Bob", "Carol"]);
    // What Alice sends now is stored for Slow; everything she sent reaches Slow once it is back.
    const last = await alice.ok("dm.send", { receiver: "Slow", text: `${sent++} last` });
    assert.equal(last.status, "stored");
    slow.close();
    const back = await TestClient.connect(h.port, { caCert });
    await back.login("Slow");
    const summary = await back.expect("offline.summary");
    assert.equal(summary.count, sent);
    for (let i = 0; i < sent; i++) {
      const m = await back.expect("dm.message");
      assert.equal(String(m.text).split(" ")[0], String(i), "in order, none lost");
      assert.equal(m.replay, "missed");
    }
    back.close();
  }, { limits: { sendQueueBytes: 4 * MiB, maxTextLength: 8000 } }));
