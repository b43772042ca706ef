/**
 * Files the server keeps for recipients who are away, and for rooms: each file's bytes once,
 * named by their SHA-256 (`<dir>/<sha256>`), plus a row per file and a row per recipient still
 * to get it. An upload is written to `<dir>/tmp/` and only moved into place once its SHA-256
 * checked out; whatever is in tmp/ at start-up was interrupted and is removed.
 */
import { ChatError } from "../../protocol/errors.ts";
import { type Db, type Migration, Mutex } from "../types.ts";
import { sizeText } from "./protocol.ts";

export const SENDFILE_MIGRATIONS: Migration[] = [{
  sql: `CREATE TABLE sendfile_stored (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sender TEXT NOT NULL,
    room TEXT,
    name TEXT NOT NULL,
    sealed TEXT,
    check_sealed TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER);
  CREATE INDEX sendfile_stored_sha ON sendfile_stored (sha256);
  CREATE TABLE sendfile_pending (
    account TEXT NOT NULL,
    stored_id INTEGER NOT NULL,
    PRIMARY KEY (account, stored_id));
  CREATE INDEX sendfile_pending_stored ON sendfile_pending (stored_id)`,
}];

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
  /** Bytes of the kept files (each distinct content once). */
  #used = 0;
  /** Bytes promised to uploads under way. */
  #reserved = 0;
  /** Store changes one at a time: a file being kept must not race its blob's removal. */
  readonly #lock = new Mutex();

  constructor(readonly db: Db, readonly dir: string, readonly limits: StoreLimits) {}

  get used(): number {
    return this.#used;
  }

  async open(): Promise<void> {
    await Deno.remove(`${this.dir}/tmp`, { recursive: true }).catch(() => {});
    await Deno.mkdir(`${this.dir}/tmp`, { recursive: true });
    const live = new Map<string, number>();
    for (
      const r of await this.db.all<{ sha256: string; bytes: number }>(
        "SELECT sha256, MAX(bytes) AS bytes FROM sendfile_stored GROUP BY sha256",
      )
    ) live.set(r.sha256, r.bytes);
    // A blob without a row was moved into place just before a crash: nobody can ask for it.
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isFile && !live.has(e.name)) await Deno.remove(`${this.dir}/${e.name}`);
    }
    this.#used = [...live.values()].reduce((a, b) => a + b, 0);
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
    f: Omit<StoredFile, "id" | "created_at">,
    recipients: string[],
  ): Promise<void> {
    return this.#lock.run(async () => {
      // Nobody to give it to (a room with only its sender): nothing to keep.
      if (recipients.length === 0) {
        return await Deno.remove(tmp);
      }
      const now = Date.now();
      // The same content kept already, here: its blob serves both. (In a cluster, a row may
      // name a blob another node keeps; then this node keeps its own copy.)
      const known =
        await this.db.get("SELECT 1 FROM sendfile_stored WHERE sha256 = ?", [f.sha256]) &&
        await Deno.stat(this.blobPath(f.sha256)).then(() => true, () => false);
      if (known) await Deno.remove(tmp);
      else await Deno.rename(tmp, this.blobPath(f.sha256));
      const expires = this.limits.ttlMs > 0 ? now + this.limits.ttlMs : null;
      try {
        await this.db.tx(async (db) => {
          const { lastId } = await db.run(
            "INSERT INTO sendfile_stored (sha256, bytes, sender, room, name, sealed," +
              " check_sealed, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [f.sha256, f.bytes, f.sender, f.room, f.name, f.sealed, f.check_sealed, now, expires],
          );
          for (const a of recipients) {
            await db.run("INSERT INTO sendfile_pending (account, stored_id) VALUES (?, ?)", [
              a,
              lastId,
            ]);
          }
        });
        if (!known) this.#used += f.bytes;
      } catch (e) {
        // Not recorded: a blob nobody can ask for must not stay (or be counted).
        if (!known) await Deno.remove(this.blobPath(f.sha256)).catch(() => {});
        throw e;
      }
    });
  }

  /** Files still to hand to `account`, oldest first, expired ones left out. */
  pendingFor(account: string): Promise<StoredFile[]> {
    return this.db.all<StoredFile & Record<string, number | string | null>>(
      "SELECT s.id, s.sha256, s.bytes, s.sender, s.room, s.name, s.sealed, s.check_sealed," +
        " s.created_at FROM sendfile_pending p JOIN sendfile_stored s ON s.id = p.stored_id" +
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
      return rows.length;
    });
  }

  async #forget(ids: number[]): Promise<void> {
    const marks = ids.map(() => "?").join(",");
    const shas = await this.db.all<{ sha256: string; bytes: number }>(
      `SELECT DISTINCT sha256, bytes FROM sendfile_stored WHERE id IN (${marks})`,
      ids,
    );
    await this.db.tx(async (db) => {
      await db.run(`DELETE FROM sendfile_pending WHERE stored_id IN (${marks})`, ids);
      await db.run(`DELETE FROM sendfile_stored WHERE id IN (${marks})`, ids);
    });
    for (const { sha256, bytes } of shas) {
      if (await this.db.get("SELECT 1 FROM sendfile_stored WHERE sha256 = ?", [sha256])) continue;
      await Deno.remove(this.blobPath(sha256)).catch(() => {});
      this.#used -= bytes;
    }
  }
}
