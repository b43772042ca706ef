/** The sendfile plugin's tables: kept files, who still gets each, and (for a store several
 *  nodes share) the files' bytes. Shipped steps are never edited: add one. */
import type { Migration } from "../types.ts";

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
}, {
  // Blobs in the store, for a store several nodes share (blobs.ts); blob_id NULL: on disk.
  sql: `ALTER TABLE sendfile_stored ADD COLUMN blob_id INTEGER;
  CREATE TABLE sendfile_blobs (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    started_at INTEGER NOT NULL);
  CREATE INDEX sendfile_blobs_sha ON sendfile_blobs (sha256);
  CREATE TABLE sendfile_blob_parts (
    blob_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (blob_id, n))`,
}];
