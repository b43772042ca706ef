/** Pinned posts per room: in the store (groups_pins, so pins survive restarts and retention)
 *  and mirrored in memory. Unlike the rooms (store.ts), the mirror changes first: a pin's
 *  limits are checked against it, and a check and the change it guards must have no await
 *  between them. */
import { type Db, type PluginBus, Synced } from "../types.ts";

type PinRow = {
  room_key: string;
  seq: number;
  sender: string;
  text: string;
  ts: number;
  by_name: string;
};
import type { Pin } from "./protocol.ts";

export class Pins {
  /** Lower-cased room -> its pins, oldest pin first. */
  readonly #of = new Map<string, Pin[]>();

  constructor(private readonly db: Db) {}

  /** In a cluster (set by share): pins changed on other nodes are read again. */
  #synced: Synced<PinRow[]> | undefined;

  async load(): Promise<void> {
    this.#apply(await this.#read());
  }

  /** Keeps the mirror the same on every node of a cluster (Synced). */
  share(bus: PluginBus, onError: (e: unknown) => void): void {
    const read = () => this.#read();
    this.#synced = new Synced(bus, read, (rows) => this.#apply(rows), onError, "pins");
  }

  #read(): Promise<PinRow[]> {
    return this.db.all<PinRow>(
      "SELECT room_key, seq, sender, text, ts, by_name FROM groups_pins ORDER BY at, seq",
    );
  }

  #apply(rows: PinRow[]): void {
    this.#of.clear();
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

  #write<R>(fn: () => Promise<R>): Promise<R> {
    return this.#synced ? this.#synced.write(fn) : fn();
  }

  of(room: string): readonly Pin[] {
    return this.#of.get(room.toLowerCase()) ?? [];
  }

  has(room: string, seq: number): boolean {
    return this.of(room).some((p) => p.seq === seq);
  }

  /** Characters of all the room's pinned texts together (see PINNED_TEXT_BUDGET). */
  chars(room: string): number {
    let n = 0;
    for (const p of this.of(room)) n += p.text.length;
    return n;
  }

  /** Pins. The mirror changes at once, before any await, so a check of the room's pins made
   *  just before the call holds against concurrent pins; the write follows, and the mirror
   *  is put back if it fails. The store runs writes in the order they are made, so it ends
   *  as the mirror does, whatever an /unpin in between. */
  async add(room: string, pin: Pin): Promise<void> {
    const list = this.#list(room.toLowerCase());
    if (list.some((p) => p.seq === pin.seq)) return;
    list.push(pin);
    try {
      await this.#write(() =>
        this.db.run(
          "INSERT INTO groups_pins (room_key, seq, sender, text, ts, by_name, at)" +
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
          [room.toLowerCase(), pin.seq, pin.sender, pin.text, pin.ts, pin.by, Date.now()],
        )
      );
    } catch (e) {
      const i = list.indexOf(pin);
      if (i >= 0) list.splice(i, 1);
      throw e;
    }
  }

  /** Unpins (the mirror at once, as add does); false if it was not pinned. */
  async remove(room: string, seq: number): Promise<boolean> {
    const list = this.#list(room.toLowerCase());
    const i = list.findIndex((p) => p.seq === seq);
    if (i < 0) return false;
    const [pin] = list.splice(i, 1);
    try {
      await this.#write(() =>
        this.db.run("DELETE FROM groups_pins WHERE room_key = ? AND seq = ?", [
          room.toLowerCase(),
          seq,
        ])
      );
    } catch (e) {
      if (!list.some((p) => p.seq === seq)) list.splice(Math.min(i, list.length), 0, pin);
      throw e;
    }
    return true;
  }

  #list(key: string): Pin[] {
    let list = this.#of.get(key);
    if (!list) this.#of.set(key, list = []);
    return list;
  }
}
