import assert from "node:assert/strict";
import { pw, testCertificate, TestClient, withServer } from "../harness.ts";
import type { ServerSession } from "../../core/server/session.ts";

const MiB = 1024 * 1024;

/** The 20 who chat while Slow stalls; each posts ROUNDS times to a room Slow is in too. */
const CHATTERS = Array.from({ length: 20 }, (_, i) => `C${String(i + 1).padStart(2, "0")}`);
const ROUNDS = 5;

Deno.test("slow consumer - a client that stops reading never delays the 20 others chatting (in a room with it too), is cut off, and gets everything when it comes back", () =>
  withServer(async (h) => {
    const [alice, ...chatters] = await h.users("Alice", ...CHATTERS);
    await chatters[0].ok("groups.create", { room: "lab" });
    for (const c of chatters.slice(1)) await c.ok("groups.join", { room: "lab" });
    // Slow logs in, then never reads its socket again.
    const caCert = (await testCertificate()).cert;
    const slow = await TestClient.connect(h.port, { read: false, caCert });
    await slow.send("session.login", { id: "l", name: "Slow", password: pw("Slow") });
    await slow.send("groups.join", { id: "j", room: "lab" });
    await chatters[0].expect("groups.joined", (f) => f.name === "Slow");
    const slowSession = h.server.sessions.get("Slow") as ServerSession;
    const text = "z".repeat(7990); // a number goes in front

    // 1. Alice writes to Slow until the socket buffers are full and Slow's queue is backing up.
    let sent = 0;
    for (let i = 0; slowSession.outbox.queuedBytes === 0; i++) {
      assert.ok(i < 5000, "Slow's queue never backed up");
      // Each acked, so delivered: deliveries follow the log's commit.
      await alice.ok("dm.send", { receiver: "Slow", text: `${sent++} ${text}` });
    }
    // 2. With Slow stuck, 20 others chat: each round every one posts to the room (which
    //    Slow is in, so every post is queued for Slow too) and writes to the next one; each
    //    gets the 19 posts and the message of that round while Slow still waits.
    for (let r = 0; r < ROUNDS; r++) {
      await Promise.all(chatters.map(async (c, i) => {
        await c.ok("groups.send", { room: "lab", text: `${CHATTERS[i]} r${r}` });
        await c.ok("dm.send", { receiver: CHATTERS[(i + 1) % 20], text: `dm r${r}` });
      }));
      await Promise.all(chatters.map(async (c, i) => {
        const posts = [];
        for (let k = 0; k < 19; k++) posts.push((await c.expect("groups.message")).text);
        const want = CHATTERS.filter((n) => n !== CHATTERS[i]).map((n) => `${n} r${r}`);
        assert.deepEqual(posts.sort(), want.sort(), `${CHATTERS[i]} got round ${r}'s posts`);
        const dm = await c.expect("dm.message");
        assert.deepEqual([dm.sender, dm.text], [CHATTERS[(i + 19) % 20], `dm r${r}`]);
      }));
    }
    assert.equal(h.server.sessions.get("Slow"), slowSession, "Slow was still connected throughout");
    assert.ok(slowSession.outbox.queuedBytes > 0);

    // 3. Alice goes on; Slow's queue passes its bound and Slow is cut off, with the reason.
    for (let i = 0; h.server.sessions.get("Slow") === slowSession; i++) {
      assert.ok(i < 2000, "Slow was never cut off");
      await alice.send("dm.send", { receiver: "Slow", text: `${sent++} ${text}` });
    }
    const left = await chatters[0].expect("presence.left", (f) => f.name === "Slow");
    assert.equal(left.reason, "SEND_QUEUE_EXCEEDED");
    assert.ok(slowSession.outbox.queuedBytes <= 4 * MiB, "the queue never grew past its bound");
    // Everyone else is still connected and served; Slow's name is free again.
    assert.deepEqual((await chatters[5].ok("presence.who")).users, ["Alice", ...CHATTERS]);
    // What Alice sends now is stored for Slow; everything she sent reaches Slow once it is back.
    const last = await alice.ok("dm.send", { receiver: "Slow", text: `${sent++} last` });
    assert.equal(last.status, "stored");
    slow.close();
    const back = await TestClient.connect(h.port, { caCert });
    await back.login("Slow");
    const summary = await back.expect("offline.summary");
    const posts = CHATTERS.length * ROUNDS;
    assert.equal(summary.count, sent + posts);
    const got: string[] = [];
    for (let i = 0; i < sent + posts; i++) {
      const m = await back.expect((f) => f.type === "dm.message" || f.type === "groups.message");
      assert.equal(m.replay, "missed");
      if (m.type === "dm.message") {
        assert.equal(String(m.text).split(" ")[0], String(got.length), "in order, none lost");
        got.push(String(m.text));
      }
    }
    assert.equal(got.length, sent);
    back.close();
  }, { limits: { sendQueueBytes: 4 * MiB, maxTextLength: 8000 } }));
