/// <reference lib="dom" />
/**
 * What the composer's `/commands` do in the page: `/msg Name text`, `/create #room`,
 * `/join #room`, `/verify Name [accept]`, `/sendfile` (the file picker); any other line is a
 * message to the open conversation, sealed end to end when it is a direct message to someone
 * with a key.
 */
import { DmSend } from "../../plugins/dm/protocol.ts";
import { GroupCreate, GroupJoin, GroupSend } from "../../plugins/groups/protocol.ts";
import { type PageConnection, RequestError } from "./conn.ts";
import { type Convs, dmKey, roomKey } from "./convs.ts";
import type { PageE2e } from "./e2e.ts";

export interface LineCtx {
  conn: PageConnection;
  e2e: PageE2e | undefined;
  convs: Convs;
  pickFile(): void;
  say(text: string): void;
}

export async function runLine(x: LineCtx, text: string): Promise<void> {
  const { conn, convs } = x;
  let m: RegExpMatchArray | null;
  if ((m = text.match(/^\/(create|join)\s+[#@]?(\S+)$/))) {
    const a = m[1] === "create"
      ? await conn.request(GroupCreate, { room: m[2], private: false })
      : await conn.request(GroupJoin, { room: m[2] });
    convs.conv(roomKey(a.room), `#${a.room}`);
    return convs.show(roomKey(a.room));
  }
  if ((m = text.match(/^\/msg\s+(\S+)\s+([\s\S]+)$/))) return await sendDm(x, m[1], m[2]);
  if ((m = text.match(/^\/verify\s+(\S+)(\s+accept)?$/))) {
    if (!x.e2e) throw new RequestError("E2E_FAILED", "this server offers no encryption");
    const number = await x.e2e.verify(conn, m[1], m[2] !== undefined);
    convs.note(dmKey(m[1]), m[1], `safety number with ${m[1]}: ${number}`);
    return convs.show(dmKey(m[1]));
  }
  if (/^\/sendfile\b/.test(text)) return x.pickFile();
  if (text.startsWith("/")) return x.say(`unknown command ${text.split(/\s/)[0]}`);
  const open = convs.open ? convs.all.get(convs.open) : undefined;
  if (!open) return x.say("open a conversation first: /msg Name text, or /join #room");
  if (open.key.startsWith("dm:")) return await sendDm(x, open.title, text);
  const a = await conn.request(GroupSend, { room: open.title.slice(1), text });
  const own = { sender: convs.me, text, ts: a.ts, seq: a.seq, away: false };
  convs.add(roomKey(a.room), `#${a.room}`, own, false);
}

async function sendDm(x: LineCtx, to: string, text: string): Promise<void> {
  const sealed = await x.e2e?.seal(x.conn, to, text);
  const a = await x.conn.request(
    DmSend,
    sealed ? { receiver: to, sealed } : { receiver: to, text },
  );
  const mark = sealed ? "end-to-end encrypted" : "not end-to-end encrypted";
  const own = { sender: x.convs.me, text, ts: a.ts, seq: a.seq, away: false, mark };
  x.convs.add(dmKey(a.receiver), a.receiver, own, false);
  x.convs.show(dmKey(a.receiver));
}
