/// <reference lib="dom" />
/**
 * What a line typed in the composer does. A `/command` is a plugin's, from its own definition
 * (plugin_commands.ts: /who, /history, /members, /kick, /pin, /hand, ...), or one of the page's:
 * `/verify` (e2e.ts), `/sendfile` (the file picker), `/help`. Any other line is a message to
 * the open conversation; with none open, the terminal's line shapes (`Bob: hi`, `@cs350 hi`).
 *
 * Plugin commands run with a page ClientCtx: what they print goes into the open conversation as
 * notices, and the requests that change what the page shows are followed up here: a direct
 * message is sealed end to end first and shown in its conversation, a room post shown in its
 * room, a room created or joined opened.
 */
import { type DmBody, DmSend } from "../../plugins/dm/protocol.ts";
import type { Sends } from "../../core/client/sends.ts";
import { GroupCreate, GroupJoin, GroupLeave, GroupSend } from "../../plugins/groups/protocol.ts";
import type { ClientCtx, Ui } from "../../plugins/types.ts";
import type { MessageSpec } from "../../protocol/spec.ts";
import { type PageConnection, RequestError } from "./conn.ts";
import { type Convs, dmKey, roomKey } from "./convs.ts";
import type { PageE2e } from "./e2e.ts";
import type { PluginCommands } from "./plugin_commands.ts";
import { badgedUi } from "../../core/client/badges.ts";

export interface LineCtx {
  /** The connection now: a message typed before a drop goes out on the next one. */
  conn(): PageConnection;
  /** Chat messages kept until answered, sent again with their txn after a drop (the
   *  terminal's own, core/client/sends.ts): each is done once, whatever happens between. */
  sends: Sends;
  e2e: PageE2e | undefined;
  convs: Convs;
  plugins: PluginCommands;
  pickFile(): void;
  say(text: string): void;
}

/** Where notices go when no conversation is open. */
const NOTES = "note:classchat";

export async function runLine(x: LineCtx, text: string): Promise<void> {
  const { convs } = x;
  const ctx = pageCtx(x);
  let m: RegExpMatchArray | null;
  if ((m = text.match(/^\/verify\s+(\S+)(\s+accept)?$/))) {
    if (!x.e2e) throw new RequestError("E2E_FAILED", "this server offers no encryption");
    const number = await x.e2e.verify(x.conn(), m[1], m[2] !== undefined);
    convs.note(dmKey(m[1]), m[1], `safety number with ${m[1]}: ${number}`);
    return convs.show(dmKey(m[1]));
  }
  if (/^\/sendfile\b/.test(text)) return x.pickFile();
  if (/^\/help$/.test(text)) return help(x, ctx.ui);
  if (text.startsWith("/")) {
    if (await x.plugins.slash(text, ctx)) return;
    return x.say(`UNKNOWN_COMMAND: ${text.split(/\s/)[0]} is not a command; try /help`);
  }
  const open = convs.open ? convs.all.get(convs.open) : undefined;
  if (open?.key.startsWith("dm:")) return void await ctx.request(DmSend, dm(open.title, text));
  if (open?.key.startsWith("room:")) {
    return void await ctx.request(GroupSend, { room: open.title.slice(1), text });
  }
  if (await x.plugins.line(text, ctx)) return;
  x.say("open a conversation first: /msg Name text, or /join #room");
}

function help(x: LineCtx, ui: Ui) {
  const page = [
    ["/verify <user> [accept]", "compare end-to-end keys: the same number on both sides"],
    ["/sendfile", "pick a file for the open conversation (or drop one on the page)"],
  ];
  const all = [...x.plugins.commands.map((c) => [c.usage, c.summary]), ...page];
  ui.notice(`commands: ${all.map(([u, s]) => `${u}: ${s}`).join("; ")}`);
}

const dm = (receiver: string, text: string) => ({ receiver, text });

/** The ClientCtx the plugins' commands run with in the page. */
/** The Ui plugins print to in the page: notices go into the room they are about (`room`, a
 *  pushed frame's), else into the open conversation (or a "ClassChat" one); errors under the
 *  composer. */
export function pageUi(
  convs: Convs,
  say: (text: string) => void,
  plugins: PluginCommands,
  room?: string,
): Ui {
  const note = (text: string) => {
    if (room !== undefined) return convs.note(roomKey(room), `#${room}`, text);
    const c = convs.open ? convs.all.get(convs.open) : undefined;
    convs.note(c?.key ?? NOTES, c?.title ?? "ClassChat", text);
  };
  const id = (s: string) => s;
  return badgedUi({
    // A plugin's echo of a message sent is the page's to show, in its conversation.
    line: (text) => void (text.startsWith("-> ") || note(text)),
    notice: note,
    error: (code, message) => say(`${code}: ${message}`),
    progress: () => {},
    style: { name: id, dim: id, bold: id },
    time: (ms) => new Date(ms).toLocaleString(),
  }, plugins.badges);
}

function pageCtx(x: LineCtx): ClientCtx {
  const ui = pageUi(x.convs, x.say, x.plugins);
  return {
    ui,
    server: location.host,
    get me() {
      return x.convs.me;
    },
    request: <T, A>(spec: MessageSpec<T, A>, body: T) => request(x, spec, body),
    notify: (spec, body) => x.conn().notify(spec, body),
    settled: () => Promise.resolve(),
    quit: () => Promise.resolve(x.conn().close()),
  };
}

async function request<T, A>(x: LineCtx, spec: MessageSpec<T, A>, body: T): Promise<A> {
  const { convs } = x;
  if (spec === (DmSend as MessageSpec<unknown, unknown>)) {
    const { receiver, text } = body as { receiver: string; text: string };
    let sealed = false;
    // Sealed once the connection is back (the peer's key may have to be asked for).
    const seal = async (b: DmBody & { receiver: string }) => {
      const s = await x.e2e?.seal(x.conn(), receiver, text);
      sealed = s !== undefined;
      return s ? { receiver: b.receiver, sealed: s } : b;
    };
    const a = await resend(x, DmSend, { receiver, text }, seal);
    const mark = sealed ? "end-to-end encrypted" : "not end-to-end encrypted";
    const own = { sender: convs.me, text, ts: a.ts, seq: a.seq, away: false, mark };
    convs.add(dmKey(a.receiver), a.receiver, own, false);
    convs.show(dmKey(a.receiver));
    return a as A;
  }
  const a = spec.resend
    ? await resend(x, spec, body, (b) => Promise.resolve(b))
    : await x.conn().request(spec, body);
  if (spec === (GroupSend as MessageSpec<unknown, unknown>)) {
    const g = a as { room: string; ts: number; seq?: number };
    const own = { sender: convs.me, text: (body as { text: string }).text, ts: g.ts, seq: g.seq };
    convs.add(roomKey(g.room), `#${g.room}`, { ...own, away: false }, false);
  } else if (
    spec === (GroupCreate as MessageSpec<unknown, unknown>) ||
    spec === (GroupJoin as MessageSpec<unknown, unknown>)
  ) {
    const room = (a as { room: string }).room;
    convs.conv(roomKey(room), `#${room}`);
    convs.show(roomKey(room));
  } else if (spec === (GroupLeave as MessageSpec<unknown, unknown>)) {
    convs.drop(roomKey((a as { room: string }).room));
  }
  return a;
}

/** A chat message through Sends: kept until answered, sent again with its txn after a drop. */
async function resend<T, A>(
  x: LineCtx,
  spec: MessageSpec<T, A>,
  body: T,
  prepare: (b: T) => Promise<T>,
): Promise<A> {
  x.sends.hold();
  const { ack } = await x.sends.handOver(spec, body, x.sends.txn(), prepare);
  return await ack;
}
