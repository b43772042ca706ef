/**
 * Accounts: a name belongs to whoever set its password first. Passwords are stored only as
 * scrypt hashes (password.ts); a successful login also issues a resume token (tokens.ts),
 * which a reconnecting client presents instead of the password. Failed logins are budgeted so
 * that no stranger can keep the owner out (budget.ts). Server admins are marked in the store
 * by the operator (`classchat admin add-admin`), so admin rights belong to an account, never
 * to whoever registers a name first.
 */
import { randomBytes } from "node:crypto";
import { ChatError } from "../../../protocol/errors.ts";
import type { Db, Migration } from "../storage/db.ts";
import { LoginBudget, type LoginLimits, type Outcome } from "./budget.ts";
import { Tokens } from "./tokens.ts";
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
}, {
  // Server admins, marked on the server's machine (classchat admin add-admin); the server
  // reads the flag at start and whenever it reads the account's row (every login).
  sql: `ALTER TABLE session_accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0`,
}];

type AccountRow = {
  name_key: string;
  name: string;
  password: string;
  created_at: number;
  /** When the password last changed: login failures before it no longer count. */
  updated_at: number;
  admin: number;
};

export interface LoginResult {
  /** The account's name as registered (its case may differ from what was typed). */
  name: string;
  created: boolean;
  token: string;
}

export class Accounts {
  readonly #budget: LoginBudget;
  readonly #tokens: Tokens;
  /** Every account: lower-cased name -> name as registered. */
  readonly #names = new Map<string, string>();
  /** Lower-cased names of the accounts marked admin in the store, as last read. */
  readonly #admins = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly scrypt: ScryptParams,
    limits: LoginLimits,
  ) {
    this.#budget = new LoginBudget(limits);
    this.#tokens = new Tokens(db);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#row(name)) !== undefined;
  }

  /** The account's name as registered, read from the store; undefined if there is none. */
  async registeredName(name: string): Promise<string | undefined> {
    return (await this.#row(name))?.name;
  }

  /** Loads every account name (see canonical) and admin mark; once, at start-up. */
  async load(): Promise<void> {
    const rows = await this.db.all<{ name_key: string; name: string; admin: number }>(
      "SELECT name_key, name, admin FROM session_accounts",
    );
    for (const r of rows) {
      this.#names.set(r.name_key, r.name);
      this.#noteAdmin(r.name_key, r.admin);
    }
  }

  /** Marked admin in the store (classchat admin add-admin), as the server last read it. */
  isAdmin(name: string): boolean {
    return this.#admins.has(name.toLowerCase());
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
   *  RATE_LIMITED (budget.ts); may first wait its turn if the account is being guessed at.
   *  `address` is the client's address key; `gone` says whether its connection has closed. */
  async login(
    name: string,
    password: string,
    address: string,
    gone: () => boolean = () => false,
  ): Promise<LoginResult> {
    const key = name.toLowerCase();
    let row = await this.#row(key);
    if (!row) {
      this.#budget.checkAddress(address);
      // Two first logins racing for one new name: the first insert wins, the other is
      // checked against the winner's password below.
      if (await this.create(name, password, false)) {
        this.#budget.loggedIn(key, address);
        return { name, created: true, token: await this.#tokens.issue(key) };
      }
      row = await this.#row(key);
      if (!row) throw new ChatError("INTERNAL", "the account vanished while being created");
    }
    if (password.length > MAX_PASSWORD_LENGTH) {
      throw new ChatError("WEAK_PASSWORD", passwordProblem(password));
    }
    row = await this.#verify(row, password, address, gone, `wrong password for "${name}"`);
    if (needsRehash(row.password, this.scrypt)) await this.#rehash(row, password);
    return { name: row.name, created: false, token: await this.#tokens.issue(key) };
  }

  /** Logs in with a resume token from an earlier login. A valid token is always accepted,
   *  whatever the failure counts (it is the owner's device); a wrong one counts against the
   *  address's token budget. Throws BAD_TOKEN, RATE_LIMITED. */
  async resume(name: string, token: string, address: string): Promise<{ name: string }> {
    const key = name.toLowerCase();
    const row = await this.#tokens.use(key, token);
    if (!row) {
      this.#budget.badToken(address);
      throw new ChatError("BAD_TOKEN", "the resume token is unknown or expired; log in again");
    }
    this.#noteAdmin(key, row.admin);
    this.#budget.loggedIn(key, address);
    return { name: row.name };
  }

  /** Changes a password after checking the old one; every resume token of the account is
   *  revoked and a new one returned for the session that asked. */
  async changePassword(
    name: string,
    old: string,
    next: string,
    address: string,
    gone: () => boolean = () => false,
  ) {
    const key = name.toLowerCase();
    const row = await this.#row(key);
    if (!row) throw new ChatError("INTERNAL", `no account "${name}"`);
    const problem = passwordProblem(next);
    if (problem) throw new ChatError("WEAK_PASSWORD", problem);
    await this.#verify(row, old, address, gone, "the current password is wrong");
    // The new updated_at lifts every lock on the account (budget.ts).
    await this.#setHash(key, next);
    await this.#tokens.revokeAll(key);
    return { token: await this.#tokens.issue(key) };
  }

  /** Checks `password` against the account within the login budgets (budget.ts), first
   *  waiting its turn if the account is being guessed at; returns the account's row as then
   *  read. Throws RATE_LIMITED, or BAD_PASSWORD with `wrong` as its message. */
  async #verify(
    row: AccountRow,
    password: string,
    address: string,
    gone: () => boolean,
    wrong: string,
  ): Promise<AccountRow> {
    // Checked, queued and counted in flight with no await in between (budget.ts).
    const attempt = this.#budget.begin(row.name_key, address, row.updated_at);
    let outcome: Outcome = "abandoned"; // unless the password gets compared
    try {
      if (attempt.turn) {
        await attempt.turn;
        // Closed while it waited (by --login-timeout, or the server stopping): its turn goes
        // to the next in line rather than to a hash nobody will hear the answer of.
        if (gone()) throw new ChatError("INTERNAL", "the connection closed while the login waited");
        // Its password may have changed while this attempt waited: check against the new one.
        row = (await this.#row(row.name_key)) ?? row;
      }
      outcome = (await verifyPassword(password, row.password)) ? "right" : "wrong";
    } finally {
      attempt.end(outcome);
    }
    if (outcome === "wrong") throw new ChatError("BAD_PASSWORD", wrong);
    return row;
  }

  /** Admin reset: a new random password, returned once; every resume token is revoked, and
   *  the new updated_at lifts every lock on the account in a running server (budget.ts).
   *  Undefined if there is no such account. */
  async resetPassword(name: string): Promise<string | undefined> {
    const key = name.toLowerCase();
    if (!(await this.#row(key))) return undefined;
    // 15 random bytes = 20 base64url characters: unguessable, and short enough to read out.
    const password = b64(new Uint8Array(randomBytes(15)));
    await this.#setHash(key, password);
    await this.#tokens.revokeAll(key);
    return password;
  }

  /** Creates an account (a first login, or the operator's classchat admin add-admin), marked
   *  admin or not. Throws WEAK_PASSWORD; false if the name is taken (a login or another
   *  creation may have just made it). */
  async create(name: string, password: string, admin: boolean): Promise<boolean> {
    const problem = passwordProblem(password);
    if (problem) throw new ChatError("WEAK_PASSWORD", problem);
    const hash = await hashPassword(password, this.scrypt);
    const now = Date.now();
    const r = await this.db.run(
      "INSERT INTO session_accounts (name_key, name, password, created_at, updated_at, admin)" +
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [name.toLowerCase(), name, hash, now, now, admin ? 1 : 0],
    );
    if (r.changes === 1) {
      this.#names.set(name.toLowerCase(), name);
      this.onCreated(name);
    }
    return r.changes === 1;
  }

  /** Called with each account this process creates (a cluster tells the other nodes). */
  onCreated: (name: string) => void = () => {};

  /** Learns an account made elsewhere (another node, the operator's command). */
  noteName(name: string): void {
    this.#names.set(name.toLowerCase(), name);
  }

  /** Learns the accounts made since `since` (ms) by anyone: a cluster's safety net for a
   *  lost bus message. */
  async loadSince(since: number): Promise<void> {
    const rows = await this.db.all<{ name: string }>(
      "SELECT name FROM session_accounts WHERE created_at >= ?",
      [since],
    );
    for (const r of rows) this.noteName(r.name);
  }

  /** Marks an account admin or not; returns its name and creation time, or undefined if
   *  there is no such account. A running server sees it at the account's next login. */
  async setAdmin(name: string, admin: boolean) {
    const key = name.toLowerCase();
    await this.db.run("UPDATE session_accounts SET admin = ? WHERE name_key = ?", [
      admin ? 1 : 0,
      key,
    ]);
    const row = await this.#row(key);
    return row && { name: row.name, createdAt: row.created_at };
  }

  #noteAdmin(key: string, admin: number) {
    if (admin) this.#admins.add(key);
    else this.#admins.delete(key);
  }

  /** Reads an account's row, taking its admin mark on the way. */
  async #row(name: string): Promise<AccountRow | undefined> {
    const row = await this.db.get<AccountRow>(
      "SELECT name_key, name, password, created_at, updated_at, admin FROM session_accounts" +
        " WHERE name_key = ?",
      [name.toLowerCase()],
    );
    if (row) this.#noteAdmin(row.name_key, row.admin);
    return row;
  }

  async #setHash(key: string, password: string) {
    const hash = await hashPassword(password, this.scrypt);
    await this.db.run(
      "UPDATE session_accounts SET password = ?, updated_at = ? WHERE name_key = ?",
      [hash, Date.now(), key],
    );
  }

  /** The same password at the server's current cost. Leaves updated_at alone (it would lift
   *  the account's login locks), and does nothing if the password changed meanwhile. */
  async #rehash(row: AccountRow, password: string) {
    const hash = await hashPassword(password, this.scrypt);
    await this.db.run(
      "UPDATE session_accounts SET password = ? WHERE name_key = ? AND password = ?",
      [hash, row.name_key, row.password],
    );
  }
}
