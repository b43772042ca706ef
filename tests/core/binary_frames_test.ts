/**
 * Binary frames on a real server (protocol/framing.ts): file chunks cross as raw bytes between
 * clients that read them, and as base64 JSON to and from clients that do not, in either mix; a
 * bad or oversize binary frame is refused without losing the stream's step; a plain-text (nc)
 * session never has binary frames.
 */
import assert from "node:assert/strict";
import { encodeBinaryFrame } from "../../protocol/framing.ts";
import { type Harness, pw, randomBytes, sha256, startServer, type TestClient } from "../harness.ts";

/** Logs in `name` on a new connection; `binary` says it reads binary frames. */
async function user(h: Harness, name: string, binary: boolean): Promise<TestClient> {
  const c = await h.connect();
  const welcome = await c.expect("welcome");
  assert.equal(welcome.binary, true);
  await c.ok("session.login", { name, password: pw(name), ...(binary ? { binary } : {}) });
  return c;
}

/** Sends `bytes` from `from` to `to`'s name in one chunk, live, as a binary frame or base64;
 *  returns the chunk frame the receiver got. */
async function sendOne(
  from: TestClient,
  to: TestClient,
  toName: string,
  bytes: Uint8Array<ArrayBuffer>,
  asBinary: boolean,
) {
  const ack = await from.ok("sendfile.offer", { to: toName, name: "x.bin", size: bytes.length });
  assert.equal(ack.stored, false); // relayed live: the receiver is online
  const incoming = await to.expect("sendfile.incoming");
  const head = { type: "sendfile.chunk", file: ack.file, n: 0 };
  if (asBinary) await from.sendRaw(encodeBinaryFrame(head, bytes));
  else await from.send("sendfile.chunk", { ...head, data: bytes.toBase64() });
  const chunk = await to.expect("sendfile.chunk", (f) => f.file === incoming.file);
  await from.send("sendfile.end", { file: ack.file, sha256: await sha256(bytes) });
  await to.expect("sendfile.end", (f) => f.file === incoming.file);
  await to.send("sendfile.verdict", { file: incoming.file, ok: true });
  await from.expect("sendfile.verified", (f) => f.file === ack.file && f.ok === true);
  return chunk;
}

Deno.test("binary frames - chunks reach each reader in the form it reads, whatever the sender used", async () => {
  const h = await startServer();
  try {
    const alice = await user(h, "Alice", false);
    const bob = await user(h, "Bob", true);
    const bytes = randomBytes(20_000);
    // Base64 in, binary out: Bob said he reads binary frames.
    const toBob = await sendOne(alice, bob, "Bob", bytes, false);
    assert.ok(toBob.data instanceof Uint8Array);
    assert.deepEqual(toBob.data, bytes);
    // Binary in, base64 out: Alice did not.
    const toAlice = await sendOne(bob, alice, "Alice", bytes, true);
    assert.equal(typeof toAlice.data, "string");
    assert.deepEqual(Uint8Array.fromBase64(toAlice.data as string), bytes);
    // Binary both ways.
    const carol = await user(h, "Carol", true);
    const toCarol = await sendOne(bob, carol, "Carol", bytes, true);
    assert.deepEqual(toCarol.data, bytes);
  } finally {
    await h.close();
  }
});

Deno.test("binary frames - a bad header or an oversize frame is refused, and the next frame is read", async () => {
  const h = await startServer({ limits: { maxFrameBytes: 4096 } });
  try {
    const alice = await user(h, "Alice", true);
    // A header that is not JSON: BAD_JSON; one without a newline at all: BAD_FRAME.
    await alice.sendRaw(new Uint8Array([0x01, 0, 0, 0, 4, 0x7b, 0x7b, 0x0a, 0x00]));
    assert.equal((await alice.expect("error")).code, "BAD_JSON");
    await alice.sendRaw(new Uint8Array([0x01, 0, 0, 0, 3, 0x7b, 0x7d, 0x7d]));
    assert.equal((await alice.expect("error")).code, "BAD_FRAME");
    // Over the frame limit: FRAME_TOO_LARGE, the body skipped by its length (it is full of
    // newlines, which a line reader would take as frames), then a ping is answered.
    const big = encodeBinaryFrame({ type: "sendfile.chunk" }, new Uint8Array(5000).fill(0x0a));
    await alice.sendRaw(big);
    assert.equal((await alice.expect("error")).code, "FRAME_TOO_LARGE");
    await alice.ok("session.ping");
    assert.equal(alice.frames.filter((f) => f.type === "error").length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("binary frames - a plain-text (nc) session reads a 0x01 line as text", async () => {
  const h = await startServer({ tls: false });
  try {
    const nc = await h.connect();
    // The bytes of a binary frame's prefix, then text: the first line chooses plain-text
    // mode, and it is one line, answered as text.
    await nc.sendRaw("\x01\x00\x00\x00\x05hello\n");
    await nc.expectLine(/plain-text mode/);
    await nc.expectLine(/^error UNKNOWN_COMMAND/);
    // Later in the session too: the mark means nothing there.
    await nc.sendRaw("\x01\x00\x00\x00\x05hello\n");
    await nc.expectLine(/^error UNKNOWN_COMMAND/);
    await nc.sendRaw("server:help\n");
    await nc.expectLine(/server:help|commands/i);
  } finally {
    await h.close();
  }
});

Deno.test("binary frames - one right after the first line, in the same read, is a binary frame", async () => {
  const h = await startServer();
  try {
    const c = await h.connect();
    await c.expect("welcome");
    // The first line (JSON: it chooses the mode), a binary frame whose body holds a newline
    // and a 0x01 with a huge "length" after it, and a line: all in one write. Cut before the
    // first line was handled, the frame would be taken for lines, and the 0x01 in its body
    // for a frame that never ends.
    const ping = (id: string) => new TextEncoder().encode(`{"type":"session.ping","id":"${id}"}\n`);
    const body = new Uint8Array([0x0a, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0a]);
    const frame = encodeBinaryFrame({ type: "session.ping", id: "p2" }, body);
    const all = new Uint8Array([...ping("p1"), ...frame, ...ping("p3")]);
    await c.sendRaw(all);
    for (const id of ["p1", "p2", "p3"]) {
      await c.expect((f) => f.type === "ack" && f.re === id);
    }
    assert.equal(c.frames.filter((f) => f.type === "error").length, 0);
  } finally {
    await h.close();
  }
});
