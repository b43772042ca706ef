/**
 * File chunks and their acks against the frame budget (issue 7): they skip it while they move
 * a transfer (its window bounds them), and pay like any other frame when they do not, so a
 * client cannot flood with chunks for no transfer or make the server flood a sender with
 * credits by repeating an ack.
 */
import assert from "node:assert/strict";
import { sha256, withServer } from "../harness.ts";

/** A budget far below a file's chunk count: 2 frames a second after 5; 3 bad frames a minute. */
const limits = { framesPerSecond: 2, frameBurst: 5, maxBadFramesPerMinute: 3 };

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("sendfile budget - a live transfer of 40 chunks passes a budget of 5 frames untouched", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const chunks = Array.from({ length: 40 }, (_, i) => new Uint8Array(1024).fill(i));
    const bytes = new Uint8Array(chunks.flatMap((c) => [...c]));
    const offer = await alice.ok("sendfile.offer", {
      to: "Bob",
      name: "n.txt",
      size: bytes.length,
    });
    assert.equal(offer.stored, false);
    const window = Number(offer.window);
    let credit = -1;
    for (let n = 0; n < chunks.length; n++) {
      while (n - credit > window) {
        credit = Number((await alice.expect("sendfile.credit", (f) => f.file === offer.file)).n);
      }
      await alice.send("sendfile.chunk", { file: offer.file, n, data: chunks[n].toBase64() });
      const got = await bob.expect("sendfile.chunk", (f) => f.n === n);
      await bob.send("sendfile.ack", { file: got.file, n });
    }
    await alice.send("sendfile.end", { file: offer.file, sha256: await sha256(bytes) });
    const end = await bob.expect("sendfile.end");
    await bob.send("sendfile.verdict", { file: end.file, ok: true });
    assert.equal((await alice.expect("sendfile.verified")).ok, true);
    for (const c of [alice, bob]) {
      assert.deepEqual(c.frames.filter((f) => f.type === "error"), []);
    }
  }, { limits }));

Deno.test("sendfile budget - chunks for no transfer pay the budget: RATE_LIMITED, then TOO_MANY_ERRORS", () =>
  withServer(async (h) => {
    const [mallory, bob] = await h.users("Mallory", "Bob");
    const data = new Uint8Array(3).toBase64();
    for (let n = 0; n < 30 && !mallory.isClosed; n++) {
      await mallory.send("sendfile.chunk", { file: "f999", n, data }).catch(() => {});
    }
    const limited = await mallory.expect("error", (f) => f.code === "RATE_LIMITED");
    assert.equal(limited.limit, "frames");
    assert.equal((await mallory.expect("session.closing")).code, "TOO_MANY_ERRORS");
    await bob.ok("session.ping"); // everyone else is served
  }, { limits }));

Deno.test("sendfile budget - a repeated ack is not relayed to the sender and pays the budget", () =>
  withServer(async (h) => {
    const [alice, bob] = await h.users("Alice", "Bob");
    const offer = await alice.ok("sendfile.offer", { to: "Bob", name: "a.txt", size: 6 });
    await alice.send("sendfile.chunk", { file: offer.file, n: 0, data: "YWJj" });
    const got = await bob.expect("sendfile.chunk");
    for (let i = 0; i < 20 && !bob.isClosed; i++) {
      await bob.send("sendfile.ack", { file: got.file, n: 0 }).catch(() => {});
    }
    // An ack of a chunk not yet relayed moves nothing either.
    await bob.send("sendfile.ack", { file: got.file, n: 1 }).catch(() => {});
    assert.equal((await bob.expect("error", (f) => f.code === "RATE_LIMITED")).limit, "frames");
    assert.equal((await bob.expect("session.closing")).code, "TOO_MANY_ERRORS");
    await sleep(200);
    const credits = alice.frames.filter((f) => f.type === "sendfile.credit");
    assert.deepEqual(credits.map((f) => f.n), [0], "one credit for one chunk");
    assert.equal(alice.isClosed, false);
  }, { limits }));
