/**
 * Kept files' bytes in the store itself, for a store that several nodes share (PostgreSQL):
 * a file kept by one node is delivered by whichever node its recipient is on, and no node's
 * disk holds anything another needs. A blob is a row in `sendfile_blobs` and its bytes are
 * rows of at most CHUNK_BYTES in `sendfile_blob_parts`, read back one chunk per delivery
 * step. On one node with SQLite the bytes stay files on disk (store.ts), where the OS's cache
 * and a rename serve better than a database.
 *
 * A blob is copied in from the checked upload's temporary file in batches, each its own
 * statement (a large file must not hold the node's one store connection for its whole copy),
 * then marked complete; only then may a kept file name it. A copy cut short by a crash, or
 * finished but never named, is removed by the sweep after ORPHAN_MS.
 */
import type { Db } from "../types.ts";
import { CHUNK_BYTES } from "./protocol.ts";
import { readChunk } from "./sending.ts";

/** Parts written per statement: 512 KiB, small enough to let chat through between them. */
const PARTS_PER_BATCH = 16;
/** An incomplete or unnamed blob this old is an orphan: a copy takes seconds, not an hour. */
export const ORPHAN_MS = 60 * 60 * 1000;

/** A blob being read, chunk by chunk, from the start. */
export interface BlobReader {
  /** Fills `buf` with the next chunk (buf is CHUNK_BYTES); returns the bytes read, 0 at end. */
  read(buf: Uint8Array): Promise<number>;
  close(): void;
}

export class DbBlobs {
  constructor(readonly db: Db) {}

  /** A complete blob with this content, if one is kept. */
  async find(sha256: string): Promise<number | undefined> {
    const row = await this.db.get<{ id: number }>(
      "SELECT id FROM sendfile_blobs WHERE sha256 = ? AND complete = 1 ORDER BY id LIMIT 1",
      [sha256],
    );
    return row?.id;
  }

  /** Copies the file at `path` in as a new blob; returns its id once complete. */
  async copy(path: string, sha256: string, bytes: number): Promise<number> {
    const { lastId: id } = await this.db.run(
      "INSERT INTO sendfile_blobs (sha256, bytes, complete, started_at) VALUES (?, ?, 0, ?)",
      [sha256, bytes, Date.now()],
    );
    try {
      using file = await Deno.open(path, { read: true });
      let n = 0;
      for (let done = false; !done;) {
        const batch: Uint8Array[] = [];
        while (batch.length < PARTS_PER_BATCH) {
          const buf = new Uint8Array(CHUNK_BYTES);
          const got = await readChunk(file, buf);
          if (got > 0) batch.push(buf.subarray(0, got));
          if (got < buf.length) {
            done = true;
            break;
          }
        }
        if (batch.length === 0) break;
        const rows = batch.map(() => "(?, ?, ?)").join(", ");
        const params = batch.flatMap((data, i) => [id, n + i, data]);
        await this.db.run(
          `INSERT INTO sendfile_blob_parts (blob_id, n, data) VALUES ${rows}`,
          params,
        );
        n += batch.length;
      }
      await this.db.run("UPDATE sendfile_blobs SET complete = 1 WHERE id = ?", [id]);
      return id;
    } catch (e) {
      await this.remove(this.db, [id]).catch(() => {});
      throw e;
    }
  }

  /** Opens blob `id` for reading. */
  reader(id: number): BlobReader {
    let n = 0;
    return {
      read: async (buf) => {
        const row = await this.db.get<{ data: Uint8Array }>(
          "SELECT data FROM sendfile_blob_parts WHERE blob_id = ? AND n = ?",
          [id, n++],
        );
        if (!row) return 0;
        buf.set(row.data);
        return row.data.length;
      },
      close: () => {},
    };
  }

  /** Removes blobs `ids` that no kept file names (inside the caller's transaction). */
  async removeUnnamed(db: Db, ids: number[]): Promise<void> {
    const gone: number[] = [];
    for (const id of ids) {
      if (!await db.get("SELECT 1 FROM sendfile_stored WHERE blob_id = ?", [id])) gone.push(id);
    }
    if (gone.length) await this.remove(db, gone);
  }

  /** Removes orphans: copies cut short and blobs never named, older than ORPHAN_MS. */
  async sweep(db: Db, now: number): Promise<void> {
    const rows = await db.all<{ id: number }>(
      "SELECT b.id FROM sendfile_blobs b WHERE b.started_at < ? AND NOT EXISTS" +
        " (SELECT 1 FROM sendfile_stored s WHERE s.blob_id = b.id)",
      [now - ORPHAN_MS],
    );
    if (rows.length) await this.remove(db, rows.map((r) => r.id));
  }

  /** Bytes of every blob, complete or being copied. */
  async used(): Promise<number> {
    const row = await this.db.get<{ total: number | null }>(
      "SELECT SUM(bytes) AS total FROM sendfile_blobs",
    );
    return Number(row?.total ?? 0);
  }

  async remove(db: Db, ids: number[]): Promise<void> {
    const marks = ids.map(() => "?").join(",");
    await db.run(`DELETE FROM sendfile_blob_parts WHERE blob_id IN (${marks})`, ids);
    await db.run(`DELETE FROM sendfile_blobs WHERE id IN (${marks})`, ids);
  }
}

/** A file on disk as a BlobReader. */
export async function fileReader(path: string): Promise<BlobReader> {
  const file = await Deno.open(path, { read: true });
  return { read: (buf) => readChunk(file, buf), close: () => file.close() };
}
