/**
 * Resume tokens: a successful login issues one, a random secret of which the store keeps only
 * the SHA-256 (a stolen store yields no tokens); a reconnecting client presents it instead of
 * the password. Tokens live in session_tokens (accounts.ts owns the migrations).
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../storage/db.ts";
import { b64 } from "./password.ts";

/** A resume token unused this long is forgotten; the person types the password again. */
const TOKEN_IDLE_MS = 30 * 24 * 3600 * 1000;
/** Tokens kept per account (one per device or client run); the least recently used go. */
const MAX_TOKENS_PER_ACCOUNT = 10;
const TOKEN_BYTES = 32;

export class Tokens {
  constructor(private readonly db: Db) {}

  /** A new token for the account (lower-cased name); the oldest beyond the cap are dropped. */
  async issue(key: string): Promise<string> {
    const token = b64(new Uint8Array(randomBytes(TOKEN_BYTES)));
    const now = Date.now();
    // Hashed before the transaction: nothing awaits inside it but the store.
    const hash = await sha256(token);
    await this.db.tx(async (tx) => {
      await tx.run(
        "INSERT INTO session_tokens (hash, name_key, created_at, used_at) VALUES (?, ?, ?, ?)",
        [hash, key, now, now],
      );
      await tx.run(
        "DELETE FROM session_tokens WHERE name_key = ? AND (used_at < ? OR hash NOT IN" +
          " (SELECT hash FROM session_tokens WHERE name_key = ? ORDER BY used_at DESC LIMIT ?))",
        [key, now - TOKEN_IDLE_MS, key, MAX_TOKENS_PER_ACCOUNT],
      );
    });
    return token;
  }

  /** The account's registered name and admin mark if `token` is a live token of it (its use
   *  is then recorded); undefined if it is unknown, of another account, or expired. */
  async use(key: string, token: string): Promise<{ name: string; admin: number } | undefined> {
    const hash = await sha256(token);
    const row = await this.db.get<{ name: string; admin: number; used_at: number }>(
      "SELECT a.name, a.admin, t.used_at FROM session_tokens t JOIN session_accounts a" +
        " USING (name_key) WHERE t.hash = ? AND t.name_key = ?",
      [hash, key],
    );
    if (!row || row.used_at < Date.now() - TOKEN_IDLE_MS) return undefined;
    await this.db.run("UPDATE session_tokens SET used_at = ? WHERE hash = ?", [Date.now(), hash]);
    return row;
  }

  /** Revokes every token of the account (its password changed). */
  async revokeAll(key: string): Promise<void> {
    await this.db.run("DELETE FROM session_tokens WHERE name_key = ?", [key]);
  }
}

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return b64(new Uint8Array(d));
}
