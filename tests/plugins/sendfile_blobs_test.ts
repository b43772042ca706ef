/**
 * Kept files' bytes in the store (plugins/sendfile/blobs.ts), as nodes sharing a PostgreSQL
 * store keep them: copied in parts, read back byte for byte whatever the size (empty, one
 * part, an exact multiple of the part size, many batches), and orphans (a copy cut short, a
 * blob never named) swept only once they are old.
 */
import assert from "node:assert/strict";
import { openScratchStore, randomBytes } from "../harness.ts";
import { migrate } from "../../core/server/storage/migrate.ts";
import { DbBlobs, ORPHAN_MS } from "../../plugins/sendfile/blobs.ts";
import { SENDFILE_MIGRATIONS } from "../../plugins/sendfile/migrations.ts";
import { CHUNK_BYTES } from "../../plugins/sendfile/protocol.ts";

async function readAll(blobs: DbBlobs, id: number): Promise<Uint8Array> {
  const r = blobs.reader(id);
  const parts: Uint8Array[] = [];
  for (;;) {
    const buf = new Uint8Array(CHUNK_BYTES);
    const got = await r.read(buf);
    if (got > 0) parts.push(buf.slice(0, got));
    if (got < CHUNK_BYTES) break;
  }
  r.close();
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

Deno.test("sendfile blobs - files of every shape are copied into the store and read back exactly", async () => {
  const db = await openScratchStore();
  const dir = await Deno.makeTempDir({ prefix: "classchat-blobs-" });
  try {
    await migrate(db, "sendfile", SENDFILE_MIGRATIONS);
    const blobs = new DbBlobs(db);
    // 18 parts (17 full, one of 7 bytes) is more than a batch of 16; 3 ends on a boundary.
    for (const size of [0, 5, CHUNK_BYTES, 3 * CHUNK_BYTES, 17 * CHUNK_BYTES + 7]) {
      const bytes = randomBytes(size);
      const path = `${dir}/f${size}`;
      await Deno.writeFile(path, bytes);
      const id = await blobs.copy(path, `sha-${size}`, size);
      assert.deepEqual(await readAll(blobs, id), bytes, `${size} bytes`);
      assert.equal(await blobs.find(`sha-${size}`), id);
    }
    assert.equal(await blobs.used(), 5 + CHUNK_BYTES + 3 * CHUNK_BYTES + 17 * CHUNK_BYTES + 7);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sendfile blobs - the sweep removes only old blobs no kept file names; a copy that fails leaves nothing", async () => {
  const db = await openScratchStore();
  const dir = await Deno.makeTempDir({ prefix: "classchat-blobs-" });
  try {
    await migrate(db, "sendfile", SENDFILE_MIGRATIONS);
    const blobs = new DbBlobs(db);
    await Deno.writeFile(`${dir}/a`, randomBytes(100));
    const named = await blobs.copy(`${dir}/a`, "a", 100);
    const unnamed = await blobs.copy(`${dir}/a`, "a2", 100);
    await db.run(
      "INSERT INTO sendfile_stored (sha256, bytes, sender, name, created_at, blob_id)" +
        " VALUES ('a', 100, 'alice', 'a.txt', 0, ?)",
      [named],
    );
    // A copy cut short by a crash: a row never completed, with a part.
    const { lastId: cut } = await db.run(
      "INSERT INTO sendfile_blobs (sha256, bytes, complete, started_at) VALUES ('c', 9, 0, ?)",
      [Date.now()],
    );
    await db.run("INSERT INTO sendfile_blob_parts (blob_id, n, data) VALUES (?, 0, ?)", [
      cut,
      randomBytes(9),
    ]);
    assert.equal(await blobs.find("c"), undefined, "an incomplete copy is never found");
    await blobs.sweep(db, Date.now());
    assert.equal((await db.all("SELECT id FROM sendfile_blobs")).length, 3, "young: kept");
    await blobs.sweep(db, Date.now() + ORPHAN_MS + 1000);
    const left = await db.all<{ id: number }>("SELECT id FROM sendfile_blobs");
    assert.deepEqual(left.map((r) => r.id), [named]);
    const parts = await db.all<{ blob_id: number }>(
      "SELECT DISTINCT blob_id FROM sendfile_blob_parts",
    );
    assert.deepEqual(parts.map((r) => r.blob_id), [named]);
    assert.ok(unnamed !== named);
    // A file that cannot be read: the copy fails and leaves no row.
    await assert.rejects(blobs.copy(`${dir}/missing`, "m", 1));
    assert.equal(await db.get("SELECT 1 FROM sendfile_blobs WHERE sha256 = 'm'"), undefined);
  } finally {
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
