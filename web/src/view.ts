/// <reference lib="dom" />
/**
 * The page's DOM: every peer-supplied string goes in as text (textContent, never innerHTML),
 * so no message, name or room can add markup or script. Bidi controls are already removed by
 * the protocol's decoders (field.text); `dir="auto"` lets each line take its own direction.
 */

export interface Msg {
  seq?: number;
  sender: string;
  text: string;
  ts: number;
  /** Sent while this user was away (replayed by the offline plugin). */
  away: boolean;
  /** Shown beside the sender: how it was protected ("end-to-end encrypted", or a warning). */
  mark?: string;
  /** A notice of the page's own (a file, a safety number), not a message. */
  note?: boolean;
  /** An older message loaded as scrollback (/history): not new, not counted unread. */
  history?: boolean;
  /** A download of a received file, or the progress of one moving. */
  file?: FileLine;
}

/** A file's line: its progress (`done`, 0 to 1) while it moves, a download once here. */
export interface FileLine {
  label: string;
  done?: number;
  url?: string;
  name?: string;
}

export interface Conv {
  key: string;
  title: string;
  msgs: Msg[];
  unread: number;
  /** A room that only its owners and staff may post in (the class room, by default). */
  announce?: boolean;
  /** Its members as the header shows them (rooms), fetched when it is opened. */
  members?: string;
  /** Older messages: requested once when opened, then page by page as it is scrolled up;
   *  `historyDone` when the server had no more. */
  historyAsked?: boolean;
  historyDone?: boolean;
  /** A page is on its way; `oldest`: the seq the next page ends before (the last ack's). */
  historyLoading?: boolean;
  oldest?: number;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full" });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

/** The side list: one button per conversation, the open one marked, unread counts shown. */
export function renderConvs(
  list: HTMLElement,
  convs: Conv[],
  open: string | undefined,
  choose: (key: string) => void,
): void {
  list.replaceChildren(...convs.map((c) => {
    const b = el("button", c.key === open ? "conv open" : "conv");
    b.type = "button";
    b.dataset.key = c.key;
    b.append(el("span", "conv-title", c.title));
    if (c.unread > 0) {
      const u = el("span", "unread", String(c.unread));
      u.setAttribute("aria-label", `${c.unread} unread`);
      b.append(u);
    }
    if (c.key === open) b.setAttribute("aria-current", "true");
    b.onclick = () => choose(c.key);
    return b;
  }));
}

/** The conversation: a separator per day, then each message with its sender and time. It
 *  stays scrolled to the bottom, unless `keepFromBottom` says where to stay (older messages
 *  loaded above what is being read). */
export function renderLog(
  log: HTMLElement,
  conv: Conv | undefined,
  me: string,
  marks: (name: string) => string[],
  keepFromBottom?: number,
): void {
  const rows: HTMLElement[] = [];
  let day = "";
  for (const m of conv?.msgs ?? []) {
    const d = dayFormat.format(m.ts);
    if (d !== day) {
      day = d;
      rows.push(el("div", "day", d));
    }
    const row = el("div", m.note ? "msg note" : m.sender === me ? "msg own" : "msg");
    if (m.away) row.classList.add("away");
    const head = el("div", "head");
    head.append(el("span", "sender", m.sender));
    if (!m.note) { for (const mark of marks(m.sender)) head.append(el("span", "badge", mark)); }
    head.append(el("time", "time", timeFormat.format(m.ts)));
    if (m.mark) head.append(el("span", m.mark.startsWith("end-to-end") ? "e2e" : "warn", m.mark));
    if (m.away) head.append(el("span", "away-mark", "while you were away"));
    const body = el("div", "text", m.text);
    body.dir = "auto";
    row.append(head, body);
    if (m.file) row.append(fileRow(m.file));
    rows.push(row);
  }
  log.replaceChildren(...rows);
  log.scrollTop = log.scrollHeight - (keepFromBottom ?? log.clientHeight);
}

/** A file's line: a download link once it is here and checked, else its progress. */
function fileRow(f: FileLine): HTMLElement {
  const row = el("div", "file");
  if (f.url) {
    const a = el("a", "download", f.label);
    a.href = f.url;
    a.download = f.name ?? "file";
    row.append(a);
    return row;
  }
  if (f.done !== undefined && f.done < 1) {
    const bar = el("progress");
    bar.max = 1;
    bar.value = f.done;
    row.append(bar);
  }
  row.append(el("span", "progress", f.label));
  return row;
}
