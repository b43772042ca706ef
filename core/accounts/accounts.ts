/**
 * Accounts: a name belongs to whoever set its password first. Passwords are stored only as
 * scrypt hashes (password.ts); a successful login also issues a resume token, a random secret
 * of which the store keeps only the SHA-256, which a reconnecting client presents instead of
 * the password. Failures are counted per account and per address (limiter.ts).
 */
import { randomBytes } from "node:crypto";
import { ChatError } from "../../protocol/errors.ts";
import type { Limits } from "../../protocol/limits.ts";
import type { Db, Migration } from "../storage/db.ts";
import { FailureLimiter } from "./limiter.ts";
import {
  b64,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  needsRehash,
  passwordProblem,
  type ScryptParams,
  verifyPassword,
} from "./password.ts";

/** Owner name of the accounts tables in core_migrations (the core's own namespace). */
export const ACCOUNTS_OWNER = "session";

export const ACCOUNT_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE session_accounts (
      name_key TEXT PRIMARY KEY,  -- lower-cased: names are unique case-insensitively
      name TEXT NOT NULL,         -- as first registered, shown to others
      password TEXT NOT NULL,     -- scrypt$logN$r$p$salt$hash, never the password
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL);
    CREATE TABLE session_tokens (
      hash TEXT PRIMARY KEY,      -- SHA-256 of the token: a stolen store yields no tokens
      name_key TEXT NOT NULL REFERENCES session_accounts(name_key) ON DELETE CASCADE,
      created_at INTEGER NOT NULL,
      used_at INTEGER NOT NULL);
    CREATE INDEX session_tokens_by_account ON session_tokens(name_key, used_at)`,
}];

/** A resume token unused this long is forgotten; the person types the password again. */
const TOKEN_IDLE_MS = 30 * 24 * 3600 * 1000;
/** Tokens kept per account (one per device or client run); the least recently used go. */
const MAX_TOKENS_PER_ACCOUNT = 10;
const TOKEN_BYTES = 32;

type AccountRow = { name_key: string; name: string; password: string };

export interface LoginResult {
  /** The account's name as registered (its case may differ from what was typed). */
  name: string;
  created: boolean;
  token: string;
}

export class Accounts {
  readonly #byAccount: FailureLimiter;
  readonly #byAddress: FailureLimiter;
  /** Every account: lower-cased name -> name as registered. */
  readonly #names = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly scrypt: ScryptParams,
    limits: Pick<Limits, "loginFailuresPerAccount" | "loginFailuresPerAddress" | "loginWindowMs">,
  ) {
    this.#byAccount = new FailureLimiter(limits.loginFailuresPerAccount, limits.loginWindowMs);
    this.#byAddress = new FailureLimiter(limits.loginFailuresPerAddress, limits.loginWindowMs);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#row(name)) !== undefined;
  }

  /** Loads every account name (see canonical); once, at start-up. */
  async load(): Promise<void> {
    const rows = await this.db.all<{ name_key: string; name: string }>(
      "SELECT name_key, name FROM session_accounts",
    );
    for (const r of rows) this.#names.set(r.name_key, r.name);
  }

  /** The account's name as registered (its case), or undefined if it never existed. From
   *  memory, so a message handler can check a receiver without awaiting the store: a name is
   *  a few dozen bytes, so even 100,000 accounts cost a few MB. */
  canonical(name: string): string | undefined {
    return this.#names.get(name.toLowerCase());
  }

  /** Every account's name as registered. */
  names(): string[] {
    return [...this.#names.values()];
  }

  /** Logs in, creating the account if the name is new. Throws BAD_PASSWORD, WEAK_PASSWORD,
   *  RATE_LIMITED. */
  async login(name: string, password: string, address: string): Promise<LoginResult> {
    const key = name.toLowerCase();
    this.#checkBudget(key, address);
    if (password.length > MAX_PASSWORD_LENGTH) {
      throw new ChatError("WEAK_PASSWORD", passwordProblem(password));
    }
    let row = await this.#row(key);
    let created = false;
    if (!row) {
      const problem = passwordProblem(password);
      if (problem) throw new ChatError("WEAK_PASSWORD", problem);
      const hash = await hashPassword(password, this.scrypt);
      const now = Date.now();
      // Two first logins racing for one new name: the first insert wins, the other is
      // checked against the winner's password below.
      const r = await this.db.run(
        "INSERT INTO session_accounts (name_key, name, password, created_at, updated_at)" +
          " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [key, name, hash, now, now],
      );
      created = r.changes === 1;
      if (created) this.#names.set(key, name);
      row = created ? { name_key: key, name, password: hash } : await this.#row(key);
    }
    if (!created) {
      // Counted before the slow hash, so parallel guesses cannot all pass the budget check;
      // a correct password takes the count back.
      this.#byAccount.fail(key);
      this.#byAddress.fail(address);
      if (!row || !(await verifyPassword(password, row.password))) {
        throw new ChatError("BAD_PASSWORD", `wrong password for "${name}"`);
      }
      this.#byAccount.reset(key);
      this.#byAddress.forgive(address);
      if (needsRehash(row.password, this.scrypt)) await this.#setHash(key, password);
    }
    return { name: row!.name, created, token: await this.#issueToken(key) };
  }

  /** Logs in with a resume token from an earlier login. Throws BAD_TOKEN, RATE_LIMITED. */
  async resume(name: string, token: string, address: string): Promise<{ name: string }> {
    const key = name.toLowerCase();
    this.#checkBudget(key, address);
    const hash = await sha256(token);
    const row = await this.db.get<{ name: string; used_at: number }>(
      "SELECT a.name, t.used_at FROM session_tokens t JOIN session_accounts a USING (name_key)" +
        " WHERE t.hash = ? AND t.name_key = ?",
      [hash, key],
    );
    if (!row || row.used_at < Date.now() - TOKEN_IDLE_MS) {
      this.#byAddress.fail(address);
      throw new ChatError("BAD_TOKEN", "the resume token is unknown or expired; log in again");
    }
    await this.db.run("UPDATE session_tokens SET used_at = ? WHERE hash = ?", [Date.now(), hash]);
    return { name: row.name };
  }

  /** Changes a password after checking the old one; every resume token of the account is
   *  revoked and a new one returned for the session that asked. */
  async changePassword(name: string, old: string, next: string, address: string) {
    const key = name.toLowerCase();
    this.#checkBudget(key, address);
    const problem = passwordProblem(next);
    if (problem) throw new ChatError("WEAK_PASSWORD", problem);
    const row = await this.#row(key);
    this.#byAccount.fail(key);
    if (!row || !(await verifyPassword(old, row.password))) {
      throw new ChatError("BAD_PASSWORD", "the current password is wrong");
    }
    this.#byAccount.reset(key);
    await this.#setHash(key, next);
    await this.db.run("DELETE FROM session_tokens WHERE name_key = ?", [key]);
    return { token: await this.#issueToken(key) };
  }

  /** Admin reset: a new random password, returned once; every resume token is revoked.
   *  Undefined if there is no such account. */
  async resetPassword(name: string): Promise<string | undefined> {
    const key = name.toLowerCase();
    if (!(await this.#row(key))) return undefined;
    // 15 random bytes = 20 base64url characters: unguessable, and short enough to read out.
    const password = b64(new Uint8Array(randomBytes(15)));
    await this.#setHash(key, password);
    await this.db.run("DELETE FROM session_tokens WHERE name_key = ?", [key]);
    return password;
  }

  #checkBudget(key: string, address: string) {
    const wait = Math.max(this.#byAccount.blockedFor(key), this.#byAddress.blockedFor(address));
    if (wait > 0) {
      throw new ChatError(
        "RATE_LIMITED",
        `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`,
        { retryAfterMs: wait },
      );
    }
  }

  #row(name: string): Promise<AccountRow | undefined> {
    return this.db.get<AccountRow>(
      "SELECT name_key, name, password FROM session_accounts WHERE name_key = ?",
      [name.toLowerCase()],
    );
  }

  async #setHash(key: string, password: string) {
    const hash = await hashPassword(password, this.scrypt);
    await this.db.run(
      "UPDATE session_accounts SET password = ?, updated_at = ? WHERE name_key = ?",
      [hash, Date.now(), key],
    );
  }

  async #issueToken(key: string): Promise<string> {
    const token = b64(new Uint8Array(randomBytes(TOKEN_BYTES)));
    const now = Date.now();
    await this.db.tx(async (tx) => {
      await tx.run(
        "INSERT INTO session_tokens (hash, name_key, created_at, used_at) VALUES (?, ?, ?, ?)",
        [await sha256(token), key, now, now],
      );
      await tx.run(
        "DELETE FROM session_tokens WHERE name_key = ? AND (used_at < ? OR hash NOT IN" +
          " (SELECT hash FROM session_tokens WHERE name_key = ? ORDER BY used_at DESC LIMIT ?))",
        [key, now - TOKEN_IDLE_MS, key, MAX_TOKENS_PER_ACCOUNT],
      );
    });
    return token;
  }
}

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return b64(new Uint8Array(d));
}
