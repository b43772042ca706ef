/**
 * Who receives each room's messages, as spans of seqs (see offline_span in store.ts). The
 * open spans (members now) are mirrored in memory, so a post compares its recipients with the
 * room's current ones without reading the store, and writes rows only when they differ:
 * someone joined (a span opens at this seq) or left (theirs closes at the seq before).
 */
import type { Db } from "../types.ts";

/** What a span change reads of a room post: a log entry (store.ts's Entry) has it. Declared
 *  here so that this file need not import store.ts, which imports it. */
export interface RoomPost {
  /** room:<name>, lower case. */
  conv: string;
  sender: string;
  /** Lower-cased recipient accounts. */
  to: string[];
}

export class Spans {
  /** conv -> lower-cased accounts whose span is open. */
  #open = new Map<string, Set<string>>();

  async load(db: Db): Promise<void> {
    const rows = await db.all<{ account: string; conv: string }>(
      "SELECT account, conv FROM offline_span WHERE last_seq IS NULL",
    );
    for (const r of rows) {
      let set = this.#open.get(r.conv);
      if (!set) this.#open.set(r.conv, set = new Set());
      set.add(r.account);
    }
  }

  /** Reads a room's open spans again (in a cluster, another node may have changed them). */
  async reload(db: Db, conv: string): Promise<void> {
    const rows = await db.all<{ account: string }>(
      "SELECT account FROM offline_span WHERE conv = ? AND last_seq IS NULL",
      [conv],
    );
    this.#open.set(conv, new Set(rows.map((r) => r.account)));
  }

  /** Changes for one transaction: applied to the mirror only once it committed. */
  stage() {
    const staged = new Map<string, Set<string>>();
    return {
      /** Writes the span changes of one room post (seq) inside the transaction. */
      post: async (t: Db, e: RoomPost, seq: number) => {
        const now = staged.get(e.conv) ?? this.#open.get(e.conv) ?? new Set<string>();
        const next = new Set(e.to);
        for (const a of next) {
          if (now.has(a)) continue;
          await t.run("INSERT INTO offline_span (account, conv, first_seq) VALUES (?, ?, ?)", [
            a,
            e.conv,
            seq,
          ]);
        }
        const sender = e.sender.toLowerCase();
        for (const a of now) {
          if (next.has(a)) continue;
          // The sender is never among the recipients of their own post, but still a member.
          if (a === sender) {
            next.add(a);
            continue;
          }
          await t.run(
            "UPDATE offline_span SET last_seq = ? WHERE account = ? AND conv = ? AND last_seq IS NULL",
            [seq - 1, a, e.conv],
          );
        }
        staged.set(e.conv, next);
      },
      commit: () => {
        for (const [conv, set] of staged) this.#open.set(conv, set);
      },
    };
  }
}
