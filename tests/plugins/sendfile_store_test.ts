/**
 * Files the server keeps for people away: its limits (--max-file-size, --file-quota,
 * --file-ttl), checked before any data moves; the temporary space of an interrupted upload
 * freed; a kept file surviving a restart and delivered, verified, then removed.
 */
import assert from "node:assert/strict";
import type { RawFrame } from "../../protocol/spec.ts";
import {
  type Harness,
  ON_POSTGRES,
  openTestStore,
  sha256,
  startServer,
  type TestClient,
  type TestServerOptions,
} from "../harness.ts";

const enc = new TextEncoder();

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.isFile).map((e) => e.name)
    .sort();
}

/** The SHA-256s of the kept files' bytes: files named by them on disk with SQLite; on
 *  PostgreSQL, blobs in the store (any node may deliver them), and no file on this disk. */
async function kept(data: string): Promise<string[]> {
  if (!ON_POSTGRES) return await names(`${data}/files`);
  assert.deepEqual(await names(`${data}/files`), [], "no kept file on a node's disk");
  const db = await openTestStore(data);
  try {
    const rows = await db.all<{ sha256: string }>(
      "SELECT sha256 FROM sendfile_blobs ORDER BY sha256",
    );
    return rows.map((r) => r.sha256);
  } finally {
    await db.close();
  }
}

/** Polls until check() is true (the server frees space after its reply). */
async function until(check: () => Promise<boolean>, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads `bytes` in one chunk for `to` and waits for the server to keep it. */
async function upload(c: TestClient, to: string, name: string, bytes: Uint8Array<ArrayBuffer>) {
  const ack = await c.ok("sendfile.offer", { to, name, size: bytes.length });
  assert.equal(ack.stored, true);
  await c.send("sendfile.chunk", { file: ack.file, n: 0, data: bytes.toBase64() });
  await c.send("sendfile.end", { file: ack.file, sha256: await sha256(bytes) });
  return await c.expect("sendfile.stored", (f) => f.file === ack.file);
}

/** Disconnects `who` and waits until `watcher` saw it leave (the server is done with it). */
async function away(who: TestClient, name: string, watcher: TestClient) {
  who.close();
  await watcher.gone(name);
}

async function server(data: string, options: Record<string, string> = {}): Promise<Harness> {
  const pluginOptions = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, [v]]));
  const opts: TestServerOptions = { dataDir: data, pluginOptions };
  return await startServer(opts);
}

Deno.test("sendfile store - size limit and quota refuse an offer before any data; an interrupted upload frees its space", async () => {
  const data = await Deno.makeTempDir({ prefix: "classchat-files-" });
  const h = await server(data, { "max-file-size": "1000", "file-quota": "3000" });
  try {
    const [alice, dave] = await h.users("Alice", "Dave");
    await away(dave, "Dave", alice); // files for Dave are kept
    const over = await alice.request("sendfile.offer", { to: "Dave", name: "x", size: 1001 });
    assert.equal(over.code, "FILE_TOO_LARGE");
    assert.match(String(over.message), /at most 1\.0 KB/);
    // Three uploads of 1000 bytes under way fill the 3000-byte quota; a fourth is refused.
    const acks: RawFrame[] = [];
    for (let i = 0; i < 3; i++) {
      acks.push(await alice.ok("sendfile.offer", { to: "Dave", name: `f${i}`, size: 1000 }));
    }
    const full = await alice.request("sendfile.offer", { to: "Dave", name: "f3", size: 1000 });
    assert.equal(full.code, "QUOTA_EXCEEDED");
    // Half an upload is on disk in tmp/; cancelling it removes it and frees its share.
    await alice.send("sendfile.chunk", { file: acks[0].file, n: 0, data: "AAAA" });
    await alice.expect("sendfile.credit", (f) => f.file === acks[0].file);
    assert.deepEqual(await names(`${data}/files/tmp`), [`${acks[0].file}.part`]);
    await alice.send("sendfile.cancel", { file: acks[0].file, reason: "changed my mind" });
    await until(async () => (await names(`${data}/files/tmp`)).length === 0, "tmp emptied");
    await alice.ok("sendfile.offer", { to: "Dave", name: "f4", size: 1000 });
    // A sender that disconnects mid-upload frees its space too.
    await alice.send("sendfile.chunk", { file: acks[1].file, n: 0, data: "AAAA" });
    await alice.expect("sendfile.credit", (f) => f.file === acks[1].file);
    alice.close();
    await until(async () => (await names(`${data}/files/tmp`)).length === 0, "tmp emptied");
    const [again] = await h.users("Alice");
    for (let i = 0; i < 3; i++) {
      await again.ok("sendfile.offer", { to: "Dave", name: `g${i}`, size: 1000 });
    }
  } finally {
    await h.close();
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("sendfile store - a kept file survives a restart, is delivered at login, verified to the sender, then removed", async () => {
  const data = await Deno.makeTempDir({ prefix: "classchat-files-" });
  let h = await server(data);
  try {
    const [alice, dave] = await h.users("Alice", "Dave");
    await away(dave, "Dave", alice);
    const bytes = enc.encode("lecture notes, week 3");
    const stored = await upload(alice, "dave", "notes.txt", bytes);
    assert.deepEqual([stored.to, stored.now, stored.later], ["Dave", 0, 1]);
    const sha = await sha256(bytes);
    assert.deepEqual(await kept(data), [sha]);
    // An upload whose bytes do not match the sender's SHA-256 is not kept, and says so.
    const liar = await alice.ok("sendfile.offer", { to: "Dave", name: "forged", size: 3 });
    await alice.send("sendfile.chunk", { file: liar.file, n: 0, data: btoa("abc") });
    await alice.send("sendfile.end", { file: liar.file, sha256: "0".repeat(64) });
    const forged = await alice.expect("sendfile.cancelled", (f) => f.file === liar.file);
    assert.equal(forged.code, "CHECKSUM_MISMATCH");
    await until(async () => (await names(`${data}/files/tmp`)).length === 0, "tmp emptied");
    assert.deepEqual(await kept(data), [sha]);
    // The same content for someone else is not stored twice.
    const [carol] = await h.users("Carol");
    await away(carol, "Carol", alice);
    await upload(alice, "Carol", "copy.txt", bytes);
    assert.deepEqual(await kept(data), [sha]);
    alice.close();
    await h.close();

    h = await server(data);
    const [alice2, dave2] = await h.users("Alice", "Dave");
    const inc = await dave2.expect("sendfile.incoming");
    assert.equal(inc.from, "Alice");
    assert.equal(inc.name, "notes.txt");
    assert.equal(inc.size, bytes.length);
    assert.equal(typeof inc.sent, "number");
    const chunk = await dave2.expect("sendfile.chunk");
    assert.equal(
      new TextDecoder().decode(Uint8Array.fromBase64(String(chunk.data))),
      "lecture notes, week 3",
    );
    await dave2.send("sendfile.ack", { file: inc.file, n: 0 });
    const end = await dave2.expect("sendfile.end");
    assert.equal(end.sha256, sha);
    await dave2.send("sendfile.verdict", { file: inc.file, ok: true });
    const v = await alice2.expect("sendfile.verified");
    assert.deepEqual([v.name, v.by, v.ok], ["notes.txt", "Dave", true]);
    // Carol still waits for her copy: the content stays until she has it too.
    assert.deepEqual(await kept(data), [sha]);
    dave2.close();
    const [dave3] = await h.users("Dave");
    await dave3.expectNone("sendfile.incoming", 300); // delivered once, not again
    const [carol2] = await h.users("Carol");
    const inc2 = await carol2.expect("sendfile.incoming");
    await carol2.expect("sendfile.end");
    await carol2.send("sendfile.verdict", { file: inc2.file, ok: true });
    await until(async () => (await kept(data)).length === 0, "blob removed");
    // A room with nobody but its sender: the upload is checked, then nothing is kept.
    await alice2.ok("groups.create", { room: "empty" });
    const ack = await alice2.ok("sendfile.offer", { room: "#empty", name: "x.txt", size: 2 });
    await alice2.send("sendfile.chunk", { file: ack.file, n: 0, data: btoa("hi") });
    await alice2.send("sendfile.end", { file: ack.file, sha256: await sha256(enc.encode("hi")) });
    const none = await alice2.expect("sendfile.stored");
    assert.deepEqual([none.to, none.now, none.later], ["#empty", 0, 0]);
    assert.deepEqual(await kept(data), []);
    assert.deepEqual(await names(`${data}/files/tmp`), []);
  } finally {
    await h.close();
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("sendfile store - a kept file expires after --file-ttl: never delivered, its space freed", async () => {
  const data = await Deno.makeTempDir({ prefix: "classchat-files-" });
  const h = await server(data, { "file-ttl": "1s" });
  try {
    const [alice, dave] = await h.users("Alice", "Dave");
    await away(dave, "Dave", alice);
    await upload(alice, "Dave", "old.txt", enc.encode("stale"));
    assert.equal((await kept(data)).length, 1);
    await until(async () => (await kept(data)).length === 0, "swept", 4000);
    const [dave2] = await h.users("Dave");
    await dave2.expectNone("sendfile.incoming", 500);
  } finally {
    await h.close();
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("sendfile store - a reader takes one live transfer at a time: a second file is kept and delivered alongside, or refused if too large to keep", async () => {
  const data = await Deno.makeTempDir({ prefix: "classchat-files-" });
  const h = await server(data, { "max-file-size": "1000" });
  try {
    const [alice, carol, bob] = await h.users("Alice", "Carol", "Bob");
    const live = await alice.ok("sendfile.offer", { to: "Bob", name: "big.bin", size: 5000 });
    assert.equal(live.stored, false);
    const liveIn = await bob.expect("sendfile.incoming", (f) => f.file === live.file);
    assert.equal(liveIn.kept, undefined);
    const tooBig = await carol.request("sendfile.offer", { to: "Bob", name: "b", size: 1001 });
    assert.equal(tooBig.code, "TOO_MANY_TRANSFERS");
    const bytes = enc.encode("small");
    const stored = await upload(carol, "Bob", "small.txt", bytes);
    assert.deepEqual([stored.now, stored.later], [1, 0]);
    // Delivered at once, while the live one is still open.
    const kept = await bob.expect("sendfile.incoming", (f) => f.name === "small.txt");
    assert.equal(kept.kept, true);
    assert.equal(kept.sent, undefined); // Bob was online when it was sent
    await bob.expect("sendfile.chunk", (f) => f.file === kept.file);
    await bob.expect("sendfile.end", (f) => f.file === kept.file);
    await bob.send("sendfile.verdict", { file: kept.file, ok: true });
    const v = await carol.expect("sendfile.verified");
    assert.deepEqual([v.name, v.by, v.ok], ["small.txt", "Bob", true]);
    // A malformed chunk ends an upload: "data" is checked where it is decoded.
    const [dave] = await h.users("Dave");
    await away(dave, "Dave", alice);
    const bad = await alice.ok("sendfile.offer", { to: "Dave", name: "x", size: 3 });
    await alice.send("sendfile.chunk", { file: bad.file, n: 0, data: "a*b=" });
    const cancelled = await alice.expect("sendfile.cancelled", (f) => f.file === bad.file);
    assert.match(String(cancelled.message), /not base64/);
    // Alice has the live one open; seven more make the most one session may have at once.
    for (let i = 0; i < 7; i++) {
      await alice.ok("sendfile.offer", { to: "Dave", name: "f", size: 1 });
    }
    const more = await alice.request("sendfile.offer", { to: "Dave", name: "f", size: 1 });
    assert.equal(more.code, "TOO_MANY_TRANSFERS");
  } finally {
    await h.close();
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("sendfile store - a live sender past the window is cut off, and a transfer in which nothing moves is cancelled after --transfer-timeout, freeing its space", async () => {
  const data = await Deno.makeTempDir({ prefix: "classchat-files-" });
  const h = await server(data, { "transfer-timeout": "1s", "file-quota": "1000" });
  try {
    const [alice, bob, dave] = await h.users("Alice", "Bob", "Dave");
    await away(dave, "Dave", alice);
    // Bob acknowledges nothing; Alice sends window + 1 chunks anyway.
    const live = await alice.ok("sendfile.offer", { to: "Bob", name: "x", size: 1_000_000 });
    const chunk = new Uint8Array(32 * 1024).toBase64();
    for (let n = 0; n <= Number(live.window); n++) {
      await alice.send("sendfile.chunk", { file: live.file, n, data: chunk });
    }
    const cut = await alice.expect("sendfile.cancelled", (f) => f.file === live.file);
    assert.match(String(cut.message), /window/);
    await bob.expect("sendfile.cancelled", (f) => f.file === live.file);
    // An upload that never sends a byte holds the whole quota, until the timeout.
    const idle = await alice.ok("sendfile.offer", { to: "Dave", name: "y", size: 1000 });
    assert.equal(
      (await alice.request("sendfile.offer", { to: "Dave", name: "z", size: 1 })).code,
      "QUOTA_EXCEEDED",
    );
    const stalled = await alice.expect("sendfile.cancelled", (f) => f.file === idle.file, 4000);
    assert.match(String(stalled.message), /nothing moved for 1 s/);
    await alice.ok("sendfile.offer", { to: "Dave", name: "z", size: 1000 });
  } finally {
    await h.close();
    await Deno.remove(data, { recursive: true });
  }
});
