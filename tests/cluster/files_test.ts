/**
 * Files between nodes: a live transfer from a sender on one node to a receiver on another
 * (relayed over the bus, flow-controlled by the receiver's acks), its cancellation when the
 * receiver leaves, and a file kept for someone away, delivered by the node they log in to,
 * from the shared store, with the verdict back to the sender's node.
 */
import assert from "node:assert/strict";
import { clusterReady, startCluster } from "../cluster.ts";
import { randomBytes, sha256, type TestClient } from "../harness.ts";
import { CHUNK_BYTES } from "../../plugins/sendfile/protocol.ts";

const ignore = !clusterReady;

/** Receives a whole file at `c`, acking each chunk; returns its bytes, SHA-256 and id. */
async function receive(c: TestClient, file: string) {
  const parts: Uint8Array[] = [];
  for (;;) {
    const f = await c.expect((m) =>
      (m.type === "sendfile.chunk" || m.type === "sendfile.end") && m.file === file
    );
    if (f.type === "sendfile.end") {
      const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) bytes.set(p, (at += p.length) - p.length);
      return { bytes, sha: String(f.sha256) };
    }
    parts.push(Uint8Array.fromBase64(String(f.data)));
    await c.send("sendfile.ack", { file, n: f.n });
  }
}

/** Sends `bytes` as chunks of file `file`, each only once the window allows it. */
async function sendChunks(c: TestClient, file: string, bytes: Uint8Array, window: number) {
  const count = Math.ceil(bytes.length / CHUNK_BYTES);
  let acked = -1;
  for (let n = 0; n < count; n++) {
    while (n - acked > window) {
      acked = Number((await c.expect("sendfile.credit", (f) => f.file === file)).n);
    }
    const data = bytes.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES).toBase64();
    await c.send("sendfile.chunk", { file, n, data });
  }
}

Deno.test({
  name:
    "cluster files - a live transfer between nodes arrives whole, paced by the receiver, and is verified to the sender",
  ignore,
  async fn() {
    const c = await startCluster(2);
    try {
      const [ann] = await c.nodes[0].users("Ann");
      const [bob] = await c.nodes[1].users("Bob");
      // A file goes live only to someone node 0 knows is online (told over the bus).
      await until(async () => ((await ann.ok("presence.who")).users as string[]).includes("Bob"));
      // More chunks than the window: the sender must wait for credits that cross the bus.
      const bytes = randomBytes(20 * CHUNK_BYTES + 123);
      const ack = await ann.ok("sendfile.offer", {
        to: "Bob",
        name: "notes.pdf",
        size: bytes.length,
      });
      assert.equal(ack.stored, false, "live, not kept");
      const window = Number(ack.window);
      assert.ok(window < 20, `window ${window} is smaller than the file`);
      const inc = await bob.expect("sendfile.incoming");
      assert.deepEqual([inc.from, inc.name, inc.size, inc.kept], [
        "Ann",
        "notes.pdf",
        bytes.length,
        undefined,
      ]);
      const [, got] = await Promise.all([
        (async () => {
          await sendChunks(ann, String(ack.file), bytes, window);
          await ann.send("sendfile.end", { file: ack.file, sha256: await sha256(bytes) });
        })(),
        receive(bob, String(inc.file)),
      ]);
      assert.equal(got.sha, await sha256(bytes));
      assert.deepEqual(got.bytes, bytes);
      await bob.send("sendfile.verdict", { file: inc.file, ok: true });
      const v = await ann.expect("sendfile.verified", (f) => f.file === ack.file);
      assert.deepEqual([v.name, v.by, v.ok], ["notes.pdf", "Bob", true]);

      // The receiver leaves midway: the sender is told, on its own node.
      const second = await ann.ok("sendfile.offer", { to: "Bob", name: "b.bin", size: 5000 });
      assert.equal(second.stored, false);
      await bob.expect("sendfile.incoming", (f) => f.name === "b.bin");
      await ann.send("sendfile.chunk", {
        file: second.file,
        n: 0,
        data: randomBytes(10).toBase64(),
      });
      bob.close();
      const cancelled = await ann.expect("sendfile.cancelled", (f) => f.file === second.file);
      assert.equal(cancelled.code, "TRANSFER_CANCELLED");
      assert.match(String(cancelled.message), /Bob disconnected/);
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "cluster files - a file kept on one node is delivered by another from the shared store; a room's file reaches a member on the other node at once",
  ignore,
  async fn() {
    const c = await startCluster(2);
    try {
      const [ann, dave] = await c.nodes[0].users("Ann", "Dave");
      dave.close();
      await ann.gone("Dave");
      const bytes = randomBytes(3 * CHUNK_BYTES + 7);
      const ack = await ann.ok("sendfile.offer", {
        to: "Dave",
        name: "hw.zip",
        size: bytes.length,
      });
      assert.equal(ack.stored, true, "Dave is away: kept");
      await sendChunks(ann, String(ack.file), bytes, Number(ack.window));
      await ann.send("sendfile.end", { file: ack.file, sha256: await sha256(bytes) });
      const stored = await ann.expect("sendfile.stored", (f) => f.file === ack.file);
      assert.deepEqual([stored.now, stored.later], [0, 1]);

      // Dave comes back on the other node, which never saw the upload.
      const [dave2] = await c.nodes[1].users("Dave");
      const inc = await dave2.expect("sendfile.incoming");
      assert.deepEqual([inc.from, inc.name, inc.kept], ["Ann", "hw.zip", true]);
      const got = await receive(dave2, String(inc.file));
      assert.deepEqual(got.bytes, bytes);
      await dave2.send("sendfile.verdict", { file: inc.file, ok: true });
      const v = await ann.expect("sendfile.verified");
      assert.deepEqual([v.name, v.by, v.ok], ["hw.zip", "Dave", true]);

      // A room with a member on each node: the file is kept once, and the member online on
      // the other node gets it now, not at her next login.
      const [eve] = await c.nodes[1].users("Eve");
      await ann.ok("groups.create", { room: "lab" });
      await until(async () => (await eve.request("groups.join", { room: "lab" })).type === "ack");
      const small = randomBytes(100);
      const r = await ann.ok("sendfile.offer", { room: "lab", name: "slides.pdf", size: 100 });
      await ann.send("sendfile.chunk", { file: r.file, n: 0, data: small.toBase64() });
      await ann.send("sendfile.end", { file: r.file, sha256: await sha256(small) });
      const roomStored = await ann.expect("sendfile.stored", (f) => f.file === r.file);
      assert.deepEqual([roomStored.to, roomStored.now, roomStored.later], ["#lab", 1, 0]);
      const atEve = await eve.expect("sendfile.incoming", (f) => f.name === "slides.pdf");
      assert.equal(atEve.room, "lab");
      assert.deepEqual((await receive(eve, String(atEve.file))).bytes, small);
    } finally {
      await c.close();
    }
  },
});

async function until(check: () => Promise<boolean>, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}
