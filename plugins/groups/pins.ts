/** Pinned posts per room: in the store (groups_pins, so pins survive restarts and retention)
 *  and mirrored in memory, written first and mirrored after, as the rooms are (store.ts). */
import type { Db } from "../types.ts";
import type { Pin } from "./protocol.ts";

export class Pins {
  /** Lower-cased room -> its pins, oldest pin first. */
  readonly #of = new Map<string, Pin[]>();

  constructor(private readonly db: Db) {}

  async load(): Promise<void> {
    const rows = await this.db.all<
      { room_key: string; seq: number; sender: string; text: string; ts: number; by_name: string }
    >("SELECT room_key, seq, sender, text, ts, by_name FROM groups_pins ORDER BY at, seq");
    for (const r of rows) {
      this.#list(r.room_key).push({
        seq: r.seq,
        sender: r.sender,
        text: r.text,
        ts: r.ts,
        by: r.by_name,
      });
    }
  }

  of(room: string): readonly Pin[] {
    return this.#of.get(room.toLowerCase()) ?? [];
  }

  has(room: string, seq: number): boolean {
    return this.of(room).some((p) => p.seq === seq);
  }

  async add(room: string, pin: Pin): Promise<void> {
    await this.db.run(
      "INSERT INTO groups_pins (room_key, seq, sender, text, ts, by_name, at)" +
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      [room.toLowerCase(), pin.seq, pin.sender, pin.text, pin.ts, pin.by, Date.now()],
    );
    if (!this.has(room, pin.seq)) this.#list(room.toLowerCase()).push(pin);
  }

  /** Unpins; false if it was not pinned. */
  async remove(room: string, seq: number): Promise<boolean> {
    if (!this.has(room, seq)) return false;
    await this.db.run("DELETE FROM groups_pins WHERE room_key = ? AND seq = ?", [
      room.toLowerCase(),
      seq,
    ]);
    const list = this.#list(room.toLowerCase());
    const i = list.findIndex((p) => p.seq === seq);
    if (i >= 0) list.splice(i, 1);
    return true;
  }

  /** The newest post of `room` given to `account` as its past (0: none). */
  async given(room: string, account: string): Promise<number> {
    const row = await this.db.get<{ seq: number }>(
      "SELECT seq FROM groups_given WHERE room_key = ? AND account = ?",
      [room.toLowerCase(), account.toLowerCase()],
    );
    return row?.seq ?? 0;
  }

  async setGiven(room: string, account: string, seq: number): Promise<void> {
    await this.db.run(
      "INSERT INTO groups_given (room_key, account, seq) VALUES (?, ?, ?)" +
        " ON CONFLICT (room_key, account) DO UPDATE SET seq = max(seq, excluded.seq)",
      [room.toLowerCase(), account.toLowerCase(), seq],
    );
  }

  #list(key: string): Pin[] {
    let list = this.#of.get(key);
    if (!list) this.#of.set(key, list = []);
    return list;
  }
}
