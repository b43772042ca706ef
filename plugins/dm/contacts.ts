/**
 * Who has exchanged direct messages with whom: each account's most recent conversation
 * partners, bounded, kept in the store (so it survives a restart) and mirrored in memory. It is
 * how the dm plugin relates people (ServerApi.relations): presence tells a user's partners when
 * they come and go.
 */
import type { Db, Logger, Migration } from "../types.ts";

/** Partners remembered per account. A student writes to a few classmates and the staff; 100
 *  keeps everyone they actually talk to while bounding the memory (accounts x 100 names) and
 *  the presence notices one login can cause. */
export const MAX_CONTACTS = 100;
/** A partner's time in the store is refreshed at most this often: once an hour keeps the
 *  order the bound evicts by close enough, with at most one write per pair an hour instead
 *  of one per message on the direct-message hot path. */
const REFRESH_MS = 3600 * 1000;

export const DM_MIGRATIONS: Migration[] = [{
  sql: `
    CREATE TABLE dm_contacts (
      account TEXT NOT NULL,         -- lower case
      partner TEXT NOT NULL,         -- as registered
      at INTEGER NOT NULL,           -- ms since the epoch of the last message (within an hour)
      PRIMARY KEY (account, partner)) WITHOUT ROWID`,
}];

export class Contacts {
  /** Lower-cased account -> partner (as registered) -> when written; in order of recency. */
  readonly #of = new Map<string, Map<string, number>>();

  constructor(private readonly db: Db, private readonly log: Logger, readonly max = MAX_CONTACTS) {}

  async load(): Promise<void> {
    const rows = await this.db.all<{ account: string; partner: string; at: number }>(
      "SELECT account, partner, at FROM dm_contacts ORDER BY at",
    );
    for (const r of rows) this.#remember(r.account, r.partner, r.at, false);
  }

  /** A direct message between `a` and `b` (as registered). */
  touch(a: string, b: string, now = Date.now()): void {
    if (a.toLowerCase() === b.toLowerCase()) return;
    this.#remember(a.toLowerCase(), b, now, true);
    this.#remember(b.toLowerCase(), a, now, true);
  }

  /** `account`'s partners, most recent last. */
  of(account: string): Iterable<string> {
    return this.#of.get(account.toLowerCase())?.keys() ?? [];
  }

  #remember(account: string, partner: string, at: number, write: boolean) {
    let m = this.#of.get(account);
    if (!m) this.#of.set(account, m = new Map());
    const written = m.get(partner);
    m.delete(partner); // re-inserted last: the most recent
    if (write && (written === undefined || at - written >= REFRESH_MS)) {
      m.set(partner, at);
      this.#write(
        "INSERT INTO dm_contacts (account, partner, at) VALUES (?, ?, ?)" +
          " ON CONFLICT (account, partner) DO UPDATE SET at = excluded.at",
        [account, partner, at],
      );
    } else m.set(partner, written ?? at);
    if (m.size <= this.max) return;
    const oldest = m.keys().next().value!;
    m.delete(oldest);
    if (write) {
      this.#write("DELETE FROM dm_contacts WHERE account = ? AND partner = ?", [account, oldest]);
    }
  }

  /** Not awaited: a lost write only makes a restarted server forget one partner. */
  #write(sql: string, params: (string | number)[]) {
    this.db.run(sql, params).catch((e) => this.log.error(`contacts: ${e}`));
  }
}
