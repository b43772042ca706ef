/// <reference lib="dom" />
/**
 * The web client: log in (an account is made on first use, as in the terminal), then direct
 * messages and rooms in a side list, the open conversation, and a composer (Enter sends,
 * Shift+Enter is a new line). The resume token is kept in this browser's storage, as the
 * terminal client keeps it in its config directory; after a drop the page reconnects by
 * itself with it.
 */
import { SessionAck, SessionLogin, SessionResume } from "../../protocol/core.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import { DmMessage, DmSend } from "../../plugins/dm/protocol.ts";
import { GroupCreate, GroupJoin, GroupMessage, GroupSend } from "../../plugins/groups/protocol.ts";
import { PageConnection, RequestError } from "./conn.ts";
import { byId, type Conv, renderConvs, renderLog } from "./view.ts";

/** Waits between reconnection attempts: doubling from 0.5 s up to 15 s. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15_000;
const TOKEN_KEY = "classchat.session";

const convs = new Map<string, Conv>();
let open: string | undefined;
let me = "";
let conn: PageConnection | undefined;
let acked = 0;
let retryMs = RETRY_FIRST_MS;

const loginForm = byId<HTMLFormElement>("login");
const app = byId<HTMLElement>("app");
const list = byId<HTMLElement>("convs");
const log = byId<HTMLElement>("log");
const title = byId<HTMLElement>("title");
const stateLine = byId<HTMLElement>("state");
const composer = byId<HTMLFormElement>("composer");
const input = byId<HTMLTextAreaElement>("input");
const notice = byId<HTMLElement>("notice");

function setState(s: "connecting" | "connected" | "reconnecting" | "offline") {
  stateLine.textContent = s;
  document.body.dataset.state = s;
}

function say(text: string) {
  notice.textContent = text;
}

function conv(key: string, title: string): Conv {
  let c = convs.get(key);
  if (!c) convs.set(key, c = { key, title, msgs: [], unread: 0 });
  return c;
}

function show(key: string | undefined) {
  open = key;
  const c = key ? convs.get(key) : undefined;
  if (c) c.unread = 0;
  title.textContent = c?.title ?? "ClassChat";
  renderConvs(list, [...convs.values()], open, show);
  renderLog(log, c, me);
}

type Incoming = { sender: string; text?: string; ts: number; seq?: number; replay?: string };

/** Shows a message; a pushed one with a seq is then acknowledged (session.ack), since only
 *  what was shown may move the server's delivery cursor. Our own sends are not pushed. */
function add(key: string, name: string, f: Incoming, pushed = true) {
  const c = conv(key, name);
  if (f.seq !== undefined && c.msgs.some((m) => m.seq === f.seq)) return; // shown already
  const text = f.text ?? "[end-to-end encrypted message: not readable here yet]";
  c.msgs.push({ seq: f.seq, sender: f.sender, text, ts: f.ts, away: f.replay === "missed" });
  if (key !== open) c.unread++;
  show(open ?? key);
  if (pushed && f.seq !== undefined && f.seq > acked) {
    acked = f.seq;
    conn?.notify(SessionAck, { upTo: f.seq });
  }
}

function onPush(f: RawFrame) {
  try {
    if (f.type === DmMessage.type) {
      const m = DmMessage.decode(f);
      const other = m.sender.toLowerCase() === me.toLowerCase() ? m.receiver : m.sender;
      add(`dm:${other.toLowerCase()}`, other, { ...m, replay: f.replay as string | undefined });
    } else if (f.type === GroupMessage.type) {
      const m = GroupMessage.decode(f);
      add(`room:${m.room.toLowerCase()}`, `#${m.room}`, m);
    }
  } catch {
    // A frame that does not decode is dropped, as the terminal client does.
  }
}

async function connect(login?: { name: string; password: string }) {
  setState(conn ? "reconnecting" : "connecting");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const c = conn = new PageConnection(`${scheme}://${location.host}/ws`);
  c.onPush = onPush;
  c.onClose = (code, message) => {
    if (c !== conn) return;
    if (code === "SESSION_REPLACED") return setState("offline"), say(message ?? code);
    setState("reconnecting");
    setTimeout(() => connect().catch(lost), retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };
  await c.welcomed();
  const saved = JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null");
  if (login) {
    const a = await c.request(SessionLogin, { ...login, binary: true });
    me = a.name;
    localStorage.setItem(TOKEN_KEY, JSON.stringify({ name: a.name, token: a.token }));
  } else if (saved) {
    const a = await c.request(SessionResume, {
      name: saved.name,
      token: saved.token,
      binary: true,
    });
    me = a.name;
  } else {
    return showLogin();
  }
  retryMs = RETRY_FIRST_MS;
  setState("connected");
  loginForm.hidden = true;
  app.hidden = false;
  byId("me").textContent = me;
  input.focus();
}

function showLogin(error?: string) {
  app.hidden = true;
  loginForm.hidden = false;
  byId("login-error").textContent = error ?? "";
  byId<HTMLInputElement>("name").focus();
}

loginForm.onsubmit = (e) => {
  e.preventDefault();
  const name = byId<HTMLInputElement>("name").value.trim();
  const password = byId<HTMLInputElement>("password").value;
  conn?.close();
  conn = undefined;
  connect({ name, password }).catch((err) => {
    conn?.close();
    conn = undefined;
    showLogin(err instanceof RequestError ? `${err.code}: ${err.message}` : String(err));
  });
};

/** `/create #room`, `/join #room`, `/msg Name text`; anything else goes to the open
 *  conversation. */
async function send(text: string) {
  const c = conn;
  if (!c) return;
  const create = text.match(/^\/create\s+[#@]?(\S+)$/);
  if (create) {
    const a = await c.request(GroupCreate, { room: create[1], private: false });
    conv(`room:${a.room.toLowerCase()}`, `#${a.room}`);
    return show(`room:${a.room.toLowerCase()}`);
  }
  const join = text.match(/^\/join\s+[#@]?(\S+)$/);
  const msg = text.match(/^\/msg\s+(\S+)\s+([\s\S]+)$/);
  if (join) {
    const a = await c.request(GroupJoin, { room: join[1] });
    conv(`room:${a.room.toLowerCase()}`, `#${a.room}`);
    return show(`room:${a.room.toLowerCase()}`);
  }
  if (msg) return sendTo(`dm:${msg[1].toLowerCase()}`, msg[1], msg[2]);
  if (text.startsWith("/")) return say(`unknown command ${text.split(/\s/)[0]}`);
  const open_ = open && convs.get(open);
  if (!open_) return say("open a conversation first: /msg Name text, or /join #room");
  return sendTo(open_.key, open_.key.startsWith("dm:") ? open_.title : open_.title.slice(1), text);
}

async function sendTo(key: string, target: string, text: string) {
  const c = conn!;
  if (key.startsWith("dm:")) {
    const a = await c.request(DmSend, { receiver: target, text });
    add(
      `dm:${a.receiver.toLowerCase()}`,
      a.receiver,
      { sender: me, text, ts: a.ts, seq: a.seq },
      false,
    );
    show(`dm:${a.receiver.toLowerCase()}`);
  } else {
    const a = await c.request(GroupSend, { room: target, text });
    add(
      `room:${a.room.toLowerCase()}`,
      `#${a.room}`,
      { sender: me, text, ts: a.ts, seq: a.seq },
      false,
    );
  }
}

composer.onsubmit = (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  say("");
  send(text).catch((err) =>
    say(err instanceof RequestError ? `${err.code}: ${err.message}` : String(err))
  );
};
input.onkeydown = (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    composer.requestSubmit();
  }
};

/** A reconnection that failed: a token the server no longer takes means logging in again;
 *  anything else is a drop, retried by onClose. */
function lost(err: unknown) {
  if (err instanceof RequestError && err.code === "BAD_TOKEN") {
    localStorage.removeItem(TOKEN_KEY);
    conn?.close();
    conn = undefined;
    setState("offline");
    showLogin("your session ended: log in again");
  }
}

if (localStorage.getItem(TOKEN_KEY)) connect().catch(lost);
else showLogin();
