/**
 * Files the server keeps for recipients who are away, and for rooms: each file's bytes once,
 * named by their SHA-256 (`<dir>/<sha256>`), plus a row per file and a row per recipient still
 * to get it. An upload is written to `<dir>/tmp/` and only moved into place once its SHA-256
 * checked out; whatever is in tmp/ at start-up was interrupted and is removed. On a store
 * several nodes share, the bytes are kept in the store instead (blobs.ts), so that any node
 * can deliver them; a kept file's row then names its blob (`blob_id`).
 */
import { ChatError } from "../../protocol/errors.ts";
import { type Db, Mutex } from "../types.ts";
import { sizeText } from "./protocol.ts";
import { type BlobReader, DbBlobs, fileReader } from "./blobs.ts";

/** The store-wide lock under which a kept file names a blob and a blob nobody names is
 *  removed: nodes sharing a store must not remove the blob another is naming. */
const FILES_LOCK = "sendfile.files";

/** One kept file: `bytes` and `sha256` are of what is stored (ciphertext when sealed). */
export interface StoredFile {
  id: number;
  sha256: string;
  bytes: number;
  sender: string;
  room: string | null;
  name: string;
  sealed: string | null;
  check_sealed: string | null;
  created_at: number;
  /** Its bytes in the store (blobs.ts); null: the file `<dir>/<sha256>`. */
  blob_id: number | null;
}

export interface StoreLimits {
  /** Largest file kept. */
  maxFileSize: number;
  /** Bytes all kept files (and uploads under way) may take together. */
  quota: number;
  /** Milliseconds a kept file waits for its recipients; 0 keeps it until all got it. */
  ttlMs: number;
}

export class FileStore {
  /** Bytes of the kept files (each distinct content once; on a store nodes share, every
   *  blob's, copies under way included, as last counted). */
  #used = 0;
  /** Bytes promised to uploads under way. */
  #reserved = 0;
  /** Store changes one at a time: a file being kept must not race its blob's removal. */
  readonly #lock = new Mutex();
  /** The bytes in the store, if several nodes share it. */
  readonly #inDb: DbBlobs | undefined;

  constructor(readonly db: Db, readonly dir: string, readonly limits: StoreLimits) {
    this.#inDb = db.sharedByNodes ? new DbBlobs(db) : undefined;
  }

  get used(): number {
    return this.#used;
  }

  async open(): Promise<void> {
    await Deno.remove(`${this.dir}/tmp`, { recursive: true }).catch(() => {});
    await Deno.mkdir(`${this.dir}/tmp`, { recursive: true });
    const live = new Map<string, number>();
    for (
      const r of await this.db.all<{ sha256: string; bytes: number }>(
        "SELECT sha256, MAX(bytes) AS bytes FROM sendfile_stored WHERE blob_id IS NULL" +
          " GROUP BY sha256",
      )
    ) live.set(r.sha256, r.bytes);
    // A blob without a row was moved into place just before a crash: nobody can ask for it.
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isFile && !live.has(e.name)) await Deno.remove(`${this.dir}/${e.name}`);
    }
    this.#used = [...live.values()].reduce((a, b) => a + b, 0) + (await this.#inDb?.used() ?? 0);
  }

  /** Counts the kept files again if several nodes keep them in one store (the others may
   *  have kept or removed some); uploads under way on other nodes are not counted. */
  async counted(): Promise<void> {
    if (this.#inDb) this.#used = await this.#inDb.used();
  }

  /** Promises room for an upload of `bytes`, or says why not (before any data is sent). */
  reserve(bytes: number): void {
    const { maxFileSize, quota } = this.limits;
    if (bytes > maxFileSize) {
      throw new ChatError(
        "FILE_TOO_LARGE",
        `the server keeps files of at most ${sizeText(maxFileSize)} for people away and rooms`,
      );
    }
    if (this.#used + this.#reserved + bytes > quota) {
      const free = Math.max(0, quota - this.#used - this.#reserved);
      throw new ChatError(
        "QUOTA_EXCEEDED",
        `the server's file space is full (${sizeText(free)} free of ${sizeText(quota)})`,
      );
    }
    this.#reserved += bytes;
  }

  release(bytes: number): void {
    this.#reserved -= bytes;
  }

  tmpPath(upload: string): string {
    return `${this.dir}/tmp/${upload}.part`;
  }

  blobPath(sha256: string): string {
    return `${this.dir}/${sha256}`;
  }

  /** Moves a checked upload into place (or drops it if the same content is kept already) and
   *  records it for `recipients` (lower-cased accounts); nothing is kept for nobody. */
  keep(
    tmp: string,
    f: Omit<StoredFile, "id" | "created_at" | "blob_id">,
    recipients: string[],
  ): Promise<void> {
    // Nobody to give it to (a room with only its sender): nothing to keep.
    if (recipients.length === 0) return Deno.remove(tmp);
    if (this.#inDb) return this.#keepInDb(this.#inDb, tmp, f, recipients);
    return this.#lock.run(async () => {
      // The same content kept already: its blob serves both.
      const known = await this.db.get(
        "SELECT 1 FROM sendfile_stored WHERE sha256 = ? AND blob_id IS NULL",
        [f.sha256],
      ) && await Deno.stat(this.blobPath(f.sha256)).then(() => true, () => false);
      if (known) await Deno.remove(tmp);
      else await Deno.rename(tmp, this.blobPath(f.sha256));
      try {
        await this.db.tx((db) => this.#record(db, f, recipients, null));
        if (!known) this.#used += f.bytes;
      } catch (e) {
        // Not recorded: a blob nobody can ask for must not stay (or be counted).
        if (!known) await Deno.remove(this.blobPath(f.sha256)).catch(() => {});
        throw e;
      }
    });
  }

  /** Keeps it with its bytes in the store: copied in (unless the same content is there),
   *  then named under the lock, so no node removes the blob meanwhile. */
  async #keepInDb(
    blobs: DbBlobs,
    tmp: string,
    f: Omit<StoredFile, "id" | "created_at" | "blob_id">,
    recipients: string[],
  ): Promise<void> {
    // A blob found may be removed (its last recipient done) before it is named: then the
    // second try copies the file in, and a copy nobody names is never removed but by the
    // sweep of orphans (an hour old).
    for (let tries = 0; tries < 2; tries++) {
      const known = tries === 0 ? await blobs.find(f.sha256) : undefined;
      const id = known ?? await blobs.copy(tmp, f.sha256, f.bytes);
      const named = await this.db.tx(async (db) => {
        await db.lock(FILES_LOCK);
        if (!await db.get("SELECT 1 FROM sendfile_blobs WHERE id = ?", [id])) return false;
        await this.#record(db, f, recipients, id);
        return true;
      }).catch(async (e) => {
        if (known === undefined) await blobs.remove(this.db, [id]).catch(() => {});
        throw e;
      });
      if (named) break;
      if (known === undefined) throw new Error("a blob just copied in was removed");
    }
    await Deno.remove(tmp);
    this.#used = await blobs.used();
  }

  /** The rows of one kept file and its recipients (inside a transaction). */
  async #record(
    db: Db,
    f: Omit<StoredFile, "id" | "created_at" | "blob_id">,
    recipients: string[],
    blob: number | null,
  ): Promise<void> {
    const now = Date.now();
    const expires = this.limits.ttlMs > 0 ? now + this.limits.ttlMs : null;
    const { lastId } = await db.run(
      "INSERT INTO sendfile_stored (sha256, bytes, sender, room, name, sealed," +
        " check_sealed, created_at, expires_at, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [f.sha256, f.bytes, f.sender, f.room, f.name, f.sealed, f.check_sealed, now, expires, blob],
    );
    for (const a of recipients) {
      await db.run("INSERT INTO sendfile_pending (account, stored_id) VALUES (?, ?)", [a, lastId]);
    }
  }

  /** Opens a kept file's bytes, wherever they are. */
  reader(f: StoredFile): Promise<BlobReader> {
    if (f.blob_id !== null && this.#inDb) return Promise.resolve(this.#inDb.reader(f.blob_id));
    return fileReader(this.blobPath(f.sha256));
  }

  /** Files still to hand to `account`, oldest first, expired ones left out. */
  pendingFor(account: string): Promise<StoredFile[]> {
    return this.db.all<StoredFile & Record<string, number | string | null>>(
      "SELECT s.id, s.sha256, s.bytes, s.sender, s.room, s.name, s.sealed, s.check_sealed," +
        " s.created_at, s.blob_id FROM sendfile_pending p JOIN sendfile_stored s ON s.id = p.stored_id" +
        " WHERE p.account = ? AND (s.expires_at IS NULL OR s.expires_at > ?) ORDER BY s.id",
      [account.toLowerCase(), Date.now()],
    );
  }

  /** `account` has the file (or gave up on it for good): forget it for them, and the file
   *  itself once nobody is waiting for it. */
  done(id: number, account: string): Promise<void> {
    return this.#lock.run(async () => {
      await this.db.run("DELETE FROM sendfile_pending WHERE stored_id = ? AND account = ?", [
        id,
        account.toLowerCase(),
      ]);
      const left = await this.db.get("SELECT 1 FROM sendfile_pending WHERE stored_id = ?", [id]);
      if (!left) await this.#forget([id]);
    });
  }

  /** Drops files past their expiry; returns how many. */
  sweep(now = Date.now()): Promise<number> {
    return this.#lock.run(async () => {
      const rows = await this.db.all<{ id: number }>(
        "SELECT id FROM sendfile_stored WHERE expires_at IS NOT NULL AND expires_at <= ?",
        [now],
      );
      if (rows.length) await this.#forget(rows.map((r) => r.id));
      if (this.#inDb) {
        const blobs = this.#inDb;
        await this.db.tx(async (db) => {
          await db.lock(FILES_LOCK);
          await blobs.sweep(db, now);
        });
        this.#used = await blobs.used();
      }
      return rows.length;
    });
  }

  async #forget(ids: number[]): Promise<void> {
    const marks = ids.map(() => "?").join(",");
    const shas = await this.db.all<{ sha256: string; bytes: number }>(
      `SELECT DISTINCT sha256, bytes FROM sendfile_stored WHERE id IN (${marks})` +
        " AND blob_id IS NULL",
      ids,
    );
    const inDb = await this.db.all<{ blob_id: number }>(
      `SELECT DISTINCT blob_id FROM sendfile_stored WHERE id IN (${marks})` +
        " AND blob_id IS NOT NULL",
      ids,
    );
    await this.db.tx(async (db) => {
      if (inDb.length) await db.lock(FILES_LOCK);
      await db.run(`DELETE FROM sendfile_pending WHERE stored_id IN (${marks})`, ids);
      await db.run(`DELETE FROM sendfile_stored WHERE id IN (${marks})`, ids);
      if (inDb.length) await this.#inDb?.removeUnnamed(db, inDb.map((r) => r.blob_id));
    });
    if (this.#inDb && inDb.length) this.#used = await this.#inDb.used();
    for (const { sha256, bytes } of shas) {
      if (
        await this.db.get("SELECT 1 FROM sendfile_stored WHERE sha256 = ? AND blob_id IS NULL", [
          sha256,
        ])
      ) continue;
      await Deno.remove(this.blobPath(sha256)).catch(() => {});
      this.#used -= bytes;
    }
  }
}
