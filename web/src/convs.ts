/// <reference lib="dom" />
/**
 * The page's conversations: direct messages (`dm:<name>`) and rooms (`room:<name>`), each
 * with its messages, oldest first, and an unread count; which one is open; and the acks
 * owed for what was shown (session.ack: only what a person saw may move the server's cursor).
 */
import { type Conv, type Msg, renderConvs, renderLog } from "./view.ts";

export class Convs {
  readonly all = new Map<string, Conv>();
  open: string | undefined;
  me = "";
  /** The marks shown after a sender's name (plugins' badges: staff). */
  marks: (name: string) => string[] = () => [];
  /** The highest seq shown of the pushed messages (acked through onShown). */
  #shown = 0;

  /** Called when a conversation is opened (rooms.ts: members, history). */
  onOpen: (c: Conv) => void = () => {};

  constructor(
    readonly els: { list: HTMLElement; log: HTMLElement; title: HTMLElement; info: HTMLElement },
    readonly onShown: (seq: number) => void,
  ) {}

  conv(key: string, title: string): Conv {
    let c = this.all.get(key);
    if (!c) this.all.set(key, c = { key, title, msgs: [], unread: 0 });
    return c;
  }

  show(key: string | undefined, keepFromBottom?: number): void {
    const opened = key !== this.open;
    this.open = key;
    const c = key ? this.all.get(key) : undefined;
    if (c) c.unread = 0;
    this.els.title.textContent = c?.title ?? "ClassChat";
    const info = [c?.announce ? "announce-only" : "", c?.members ?? ""].filter((x) => x);
    this.els.info.textContent = info.join(" · ");
    renderConvs(this.els.list, [...this.all.values()], key, (k) => this.show(k));
    renderLog(this.els.log, c, this.me, this.marks, keepFromBottom);
    if (opened && c) this.onOpen(c);
  }

  /** Adds a message (once per seq); a pushed new one is then acknowledged (it is in the page,
   *  counted unread if its conversation is not open). The first message of all opens its
   *  conversation. */
  add(key: string, title: string, m: Msg, pushed = true): void {
    const c = this.conv(key, title);
    if (m.seq !== undefined && c.msgs.some((x) => x.seq === m.seq)) return;
    // In the log's order: a page of history lands above what is there.
    const at = m.seq === undefined
      ? -1
      : c.msgs.findIndex((x) => x.seq !== undefined && x.seq > m.seq!);
    if (at === -1) c.msgs.push(m);
    else c.msgs.splice(at, 0, m);
    if (key !== this.open && !m.history) c.unread++;
    this.show(this.open ?? key, m.history ? this.#fromBottom() : undefined);
    // Only what arrived as new moves the cursor: a page of history is the past, not news.
    if (pushed && !m.history && m.seq !== undefined && m.seq > this.#shown) {
      this.#shown = m.seq;
      this.onShown(m.seq);
    }
  }

  /** A conversation left (a room): out of the list, and closed if it was open. */
  drop(key: string): void {
    this.all.delete(key);
    this.show(this.open === key ? undefined : this.open);
  }

  /** A notice in the open conversation (not from anyone): a file, a safety number. */
  note(key: string, title: string, text: string): void {
    this.add(key, title, { sender: "*", text, ts: Date.now(), away: false, note: true }, false);
  }

  /** How far the open log is scrolled from its bottom, to stay there as history is added. */
  #fromBottom(): number {
    const log = this.els.log;
    return log.scrollHeight - log.scrollTop;
  }
}

export const dmKey = (name: string) => `dm:${name.toLowerCase()}`;
export const roomKey = (room: string) => `room:${room.toLowerCase()}`;
