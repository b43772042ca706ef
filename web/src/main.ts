/// <reference lib="dom" />
/**
 * The web client: log in (an account is made on first use, as in the terminal), then direct
 * messages and rooms in a side list, the open conversation, and a composer (Enter sends,
 * Shift+Enter is a new line). The resume token is kept in this browser's storage, as the
 * terminal client keeps it in its config directory; after a drop the page reconnects by
 * itself with it. Direct messages are end-to-end encrypted (e2e.ts), files go by picker or
 * drag and drop (files.ts).
 */
import { SessionAck, SessionLogin, SessionQuit, SessionResume } from "../../protocol/core.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import { DmMessage } from "../../plugins/dm/protocol.ts";
import { EncryptChanged } from "../../plugins/encrypt/protocol.ts";
import { GroupMessage } from "../../plugins/groups/protocol.ts";
import { PageConnection, RequestError } from "./conn.ts";
import { Convs, dmKey, roomKey } from "./convs.ts";
import { PageE2e } from "./e2e.ts";
import { PageFiles } from "./files.ts";
import { pageUi, runLine } from "./commands.ts";
import { Rooms } from "./rooms.ts";
import { PluginCommands } from "./plugin_commands.ts";
import { Sends } from "../../core/client/sends.ts";
import { byId } from "./view.ts";

/** Waits between reconnection attempts: doubling from 0.5 s up to 15 s. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 15_000;
const TOKEN_KEY = "classchat.session";

let conn: PageConnection | undefined;
let e2e: PageE2e | undefined;
let plugins = new PluginCommands([]);
/** Chat messages kept until the server answers them, across reconnects (as the terminal). */
const sends = new Sends();
let retryMs = RETRY_FIRST_MS;
/** Pushed frames are handled one after another: opening one may wait (decryption). */
let pushes = Promise.resolve();

const loginForm = byId<HTMLFormElement>("login");
const app = byId<HTMLElement>("app");
const stateLine = byId<HTMLElement>("state");
const composer = byId<HTMLFormElement>("composer");
const input = byId<HTMLTextAreaElement>("input");
const notice = byId<HTMLElement>("notice");
const picker = byId<HTMLInputElement>("file");
const log = byId<HTMLElement>("log");

const convs = new Convs(
  { list: byId("convs"), log, title: byId("title"), info: byId("info") },
  (seq) => conn?.notify(SessionAck, { upTo: seq }),
);
const files = new PageFiles(() => conn, convs, () => conn && e2e?.sealer(conn));
const rooms = new Rooms(() => conn, convs, () => pushes);
convs.onOpen = (c) => void rooms.opened(c).catch((e) => say(problem(e)));
// Scrolled to the top: the page of messages before.
log.onscroll = () => {
  const c = convs.open ? convs.all.get(convs.open) : undefined;
  if (c && log.scrollTop < 40 && !c.historyDone) void rooms.older(c).catch(() => {});
};

function setState(s: "connecting" | "connected" | "reconnecting" | "offline") {
  stateLine.textContent = s;
  document.body.dataset.state = s;
}

function say(text: string) {
  notice.textContent = text;
}

function problem(err: unknown): string {
  return err instanceof RequestError ? `${err.code}: ${err.message}` : String(err);
}

async function onPush(f: RawFrame) {
  if (await files.push(f) || rooms.push(f)) return;
  const history = f.replay === "history";
  if (f.type === DmMessage.type) {
    const m = DmMessage.decode(f);
    const other = m.sender.toLowerCase() === convs.me.toLowerCase() ? m.receiver : m.sender;
    let text = m.text ?? "";
    let mark: string | undefined = e2e?.isPinned(m.sender) ? "NOT end-to-end encrypted" : undefined;
    if (m.sealed) {
      try {
        if (!e2e) throw new Error("this server offers no encryption");
        const opened = await e2e.open(m.sender, m.receiver, m.sealed);
        text = opened.text;
        mark = opened.marked ? "UNVERIFIED KEY" : "end-to-end encrypted";
      } catch (e) {
        text = `[an end-to-end encrypted message that could not be opened: ${e}]`;
        mark = "E2E_FAILED";
      }
    }
    const seq = typeof f.seq === "number" ? f.seq : undefined;
    const away = f.replay === "missed";
    convs.add(dmKey(other), other, { sender: m.sender, text, ts: m.ts, seq, away, mark, history });
  } else if (f.type === GroupMessage.type) {
    const m = GroupMessage.decode(f);
    const away = m.replay === "missed";
    convs.add(roomKey(m.room), `#${m.room}`, { ...m, away, history });
  } else if (f.type === EncryptChanged.type) {
    const c = EncryptChanged.decode(f);
    e2e?.changed(c.name, c.key);
  } else {
    // A frame about a room (a poll, a question) is noted in that room's conversation.
    const room = typeof f.room === "string" && convs.all.has(roomKey(f.room)) ? f.room : undefined;
    await plugins.push(f, pageUi(convs, say, plugins, room));
  }
}

async function connect(login?: { name: string; password: string }) {
  setState(conn ? "reconnecting" : "connecting");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const c = conn = new PageConnection(`${scheme}://${location.host}/ws`);
  c.onPush = (f) => {
    // A frame that does not decode is dropped, as the terminal client does.
    pushes = pushes.then(() => onPush(f)).catch(() => {});
  };
  c.onClose = (code, message) => {
    if (c !== conn) return;
    sends.disconnected();
    files.dropped();
    if (code === "SESSION_REPLACED") return setState("offline"), say(message ?? code);
    setState("reconnecting");
    setTimeout(() => connect().catch(lost), retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };
  const welcome = await c.welcomed();
  // Before the login: its pushes (staff.roster) come before the login's answer is seen.
  plugins = new PluginCommands(welcome.plugins);
  convs.marks = (name) => plugins.marks(name);
  const saved = JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null");
  if (login) {
    const a = await c.request(SessionLogin, { ...login, binary: true });
    convs.me = a.name;
    localStorage.setItem(TOKEN_KEY, JSON.stringify({ name: a.name, token: a.token }));
  } else if (saved) {
    const { name, token } = saved;
    convs.me = (await c.request(SessionResume, { name, token, binary: true })).name;
  } else {
    return showLogin();
  }
  e2e = welcome.plugins.includes("encrypt") ? await PageE2e.start(c, convs.me) : undefined;
  sends.connected(c);
  await rooms.load();
  retryMs = RETRY_FIRST_MS;
  setState("connected");
  loginForm.hidden = true;
  app.hidden = false;
  byId("me").textContent = convs.me;
  input.focus();
}

function showLogin(error?: string) {
  app.hidden = true;
  loginForm.hidden = false;
  byId("login-error").textContent = error ?? "";
  byId<HTMLInputElement>("name").focus();
}

/** A reconnection that failed: a token the server no longer takes means logging in again;
 *  anything else (refused for now, a step after login failing) is shown, and the connection
 *  closed so that onClose tries again. */
function lost(err: unknown) {
  if (err instanceof RequestError && err.code === "BAD_TOKEN") {
    localStorage.removeItem(TOKEN_KEY);
    conn?.close();
    conn = undefined;
    setState("offline");
    return showLogin("your session ended: log in again");
  }
  say(problem(err));
  conn?.close();
}

/** Log out: the session ends on the server, and this browser forgets the account: its token
 *  and its end-to-end key and pins (a lab computer is shared; the key is made again at the
 *  next login here, and peers see it changed). */
async function logOut() {
  const c = conn;
  conn = undefined; // no reconnecting
  sends.end(new Error("logged out before the server answered"));
  if (c) {
    await c.request(SessionQuit, {}).catch(() => {});
    c.close();
  }
  const me = convs.me.toLowerCase();
  for (const k of [TOKEN_KEY, `classchat.e2e.${me}`, `classchat.pins.${me}`]) {
    localStorage.removeItem(k);
  }
  location.reload();
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
    showLogin(problem(err));
  });
};

/** Sends a file to the open conversation (picker, or dropped on the page). */
function sendFile(file: File) {
  const c = convs.open ? convs.all.get(convs.open) : undefined;
  if (!c) return say("open a conversation first, then send the file");
  const target = c.key.startsWith("dm:") ? c.title : c.title.slice(1);
  files.send(c.key, target, file).catch((err) => say(problem(err)));
}

composer.onsubmit = (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text || !conn) return;
  input.value = "";
  say(sends.online ? "" : "not connected: this goes out once the connection is back");
  const line = {
    conn: () => conn!,
    sends,
    e2e,
    convs,
    plugins,
    pickFile: () => picker.click(),
    say,
  };
  runLine(line, text)
    .catch((err) => say(problem(err)));
};
input.onkeydown = (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    composer.requestSubmit();
  }
};
byId<HTMLButtonElement>("attach").onclick = () => picker.click();
byId<HTMLButtonElement>("logout").onclick = () => void logOut();
picker.onchange = () => {
  for (const f of picker.files ?? []) sendFile(f);
  picker.value = "";
};
document.body.ondragover = (e) => e.preventDefault();
document.body.ondrop = (e) => {
  e.preventDefault();
  for (const f of e.dataTransfer?.files ?? []) sendFile(f);
};

if (localStorage.getItem(TOKEN_KEY)) connect().catch(lost);
else showLogin();
