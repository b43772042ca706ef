/// <reference lib="dom" />
/**
 * What the page learns of rooms and of the past: the rooms this account is in (at login), a
 * room's members and announce-only mode (shown under its title), and older messages as
 * scrollback, a page at a time (offline.history) when a conversation is opened or scrolled to
 * its top.
 */
import {
  GroupJoined,
  GroupLeft,
  GroupList,
  GroupMembers,
  GroupMode,
} from "../../plugins/groups/protocol.ts";
import { OfflineHistory } from "../../plugins/offline/protocol.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import type { PageConnection } from "./conn.ts";
import { type Convs, roomKey } from "./convs.ts";
import type { Conv } from "./view.ts";

/** Older messages asked for at a time: a screenful and more. */
const HISTORY_PAGE = 50;
/** Members named in the header at most; the rest are counted. */
const MEMBERS_SHOWN = 12;

export class Rooms {
  constructor(
    readonly conn: () => PageConnection | undefined,
    readonly convs: Convs,
    /** Resolves once the pushed frames received so far are shown. */
    readonly settled: () => Promise<void>,
  ) {}

  /** The rooms this account is in, listed (at login). */
  async load(): Promise<void> {
    const conn = this.conn();
    if (!conn?.welcome?.plugins.includes("groups")) return;
    const { rooms } = await conn.request(GroupList, {});
    for (const r of rooms.filter((r) => r.joined)) {
      this.convs.conv(roomKey(r.room), `#${r.room}`).announce = r.announce;
    }
    this.convs.show(this.convs.open);
  }

  /** A conversation was opened: its members (a room), and its first page of history. */
  async opened(c: Conv): Promise<void> {
    if (!c.key.startsWith("room:") && !c.key.startsWith("dm:")) return; // notices: no history
    if (c.key.startsWith("room:")) await this.members(c);
    if (!c.historyAsked) await this.older(c);
  }

  async members(c: Conv): Promise<void> {
    const conn = this.conn();
    if (!conn) return;
    const { members } = await conn.request(GroupMembers, { room: c.title.slice(1) });
    // Marked as plugins mark names (staff), then by their place in the room.
    const names = members.map((m) => {
      const marks = [...this.convs.marks(m.name), m.owner ? "owner" : "", m.online ? "" : "away"];
      return m.name + marks.filter((x) => x).map((x) => ` (${x})`).join("");
    });
    const more = names.length > MEMBERS_SHOWN ? `, and ${names.length - MEMBERS_SHOWN} more` : "";
    c.members = `${members.length} members: ${names.slice(0, MEMBERS_SHOWN).join(", ")}${more}`;
    if (this.convs.open === c.key) this.convs.show(c.key);
  }

  /** The page of messages before the oldest shown; they arrive as pushes marked history. */
  async older(c: Conv): Promise<void> {
    const conn = this.conn();
    if (!conn?.welcome?.plugins.includes("offline") || c.historyDone || c.historyLoading) return;
    c.historyLoading = true;
    c.historyAsked = true;
    try {
      const before = c.oldest ?? c.msgs.find((m) => m.seq !== undefined)?.seq;
      // `with` is a user's name or `#room`: the conversation's title either way.
      const a = await conn.request(OfflineHistory, { with: c.title, limit: HISTORY_PAGE, before });
      if (a.count < HISTORY_PAGE) c.historyDone = true;
      if (a.oldest !== undefined) c.oldest = a.oldest;
      // The page's messages are pushed before the ack, but shown through the page's queue
      // (decryption): the next page is asked for once they are in.
      await this.settled();
    } finally {
      c.historyLoading = false;
    }
  }

  /** Room changes pushed by the server; false for other frames. */
  push(f: RawFrame): boolean {
    if (f.type === GroupMode.type) {
      const m = GroupMode.decode(f);
      this.convs.conv(roomKey(m.room), `#${m.room}`).announce = m.announce;
      this.convs.show(this.convs.open);
      return true;
    }
    if (f.type === GroupJoined.type || f.type === GroupLeft.type) {
      const c = this.convs.all.get(roomKey(String(f.room)));
      if (c && this.convs.open === c.key) void this.members(c).catch(() => {});
      return true;
    }
    return false;
  }
}
