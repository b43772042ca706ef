/// <reference lib="dom" />
/**
 * Files in the browser, with the sendfile plugin's protocol and, for a direct message, its
 * end-to-end sealing (plugins/sendfile/sealing.ts, the same module as the terminal's). Sending
 * reads the picked or dropped file a chunk at a time within the receiver's credit window;
 * receiving keeps the chunks as Blob parts (the browser may page them out) and offers the file
 * as a download once its SHA-256 checked out, with the hash shown.
 */
import {
  CHUNK_BYTES,
  FileAck,
  FileCancelled,
  FileChunk,
  FileCredit,
  FileEnd,
  FileIncoming,
  FileOffer,
  FileStored,
  FileVerdict,
  FileVerified,
  sizeText,
} from "../../plugins/sendfile/protocol.ts";
import {
  type FileSecret,
  openBytes,
  openCheck,
  openEnvelope,
  PLAIN_CHUNK,
  sealBytes,
  sealCheck,
  SEALED_NAME,
  sealedSize,
  sealFor,
} from "../../plugins/sendfile/sealing.ts";
import type { ClientCtx } from "../../plugins/types.ts";
import type { Sealer } from "../../plugins/services.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import type { PageConnection } from "./conn.ts";
import { type Convs, dmKey, roomKey } from "./convs.ts";
import type { Msg } from "./view.ts";
import { Sha256 } from "./sha256.ts";

/** The page's sealer ignores the terminal's context argument. */
const NO_CTX = undefined as unknown as ClientCtx;
/** Progress is drawn at most this often: the log is redrawn whole. */
const PROGRESS_MS = 150;

interface Sending {
  credit: number;
  window: number;
  wake?: () => void;
  /** Set once it ended (verified, kept, cancelled, or the connection dropped): send no more. */
  over?: string;
  done: PromiseWithResolvers<string>;
}

interface Receiving {
  from: string;
  name: string;
  size: number;
  secret?: FileSecret;
  next: number;
  got: number;
  /** Chunks as Blobs as they come: the browser may keep them out of the page's memory. */
  parts: Blob[];
  plain: Sha256;
  wire: Sha256;
  msg: Msg;
  key: string;
}

export class PageFiles {
  #sending = new Map<string, Sending>();
  #receiving = new Map<string, Receiving>();
  #drawn = 0;

  constructor(
    readonly conn: () => PageConnection | undefined,
    readonly convs: Convs,
    readonly sealer: () => Sealer | undefined,
  ) {}

  /** Sends `file` to the conversation `key` (a user: sealed if they have a key; a room: kept by
   *  the server for each member); resolves with what became of it. */
  async send(key: string, target: string, file: File): Promise<string> {
    const conn = this.conn()!;
    const dm = key.startsWith("dm:");
    const e2e = dm ? await sealFor(NO_CTX, this.sealer(), target, file.name, file.size) : undefined;
    const offer = {
      ...(dm ? { to: target } : { room: target }),
      name: e2e ? SEALED_NAME : file.name,
      size: e2e ? sealedSize(file.size) : file.size,
      sealed: e2e?.sealed,
    };
    const ack = await conn.request(FileOffer, offer);
    const st: Sending = { credit: -1, window: ack.window, done: Promise.withResolvers() };
    this.#sending.set(ack.file, st);
    const title = dm ? target : `#${target}`;
    const msg = this.#show(key, title, this.convs.me, `↑ ${file.name}`, file.size, !!e2e);
    const plain = new Sha256(), wire = new Sha256();
    // The server's chunk size (ack.chunk), less what sealing adds when end to end.
    const step = e2e ? PLAIN_CHUNK - (CHUNK_BYTES - ack.chunk) : ack.chunk;
    for (let n = 0, at = 0; n === 0 || at < file.size; n++, at += step) {
      while (n - st.credit > st.window && !st.over) {
        await new Promise<void>((r) => (st.wake = r));
      }
      if (st.over) break;
      const piece = new Uint8Array(await file.slice(at, at + step).arrayBuffer());
      plain.update(piece);
      const data = e2e ? await sealBytes(e2e.secret, n, piece) : piece;
      if (e2e) wire.update(data);
      conn.notify(FileChunk, { file: ack.file, n, data });
      this.#progress(key, msg, `↑ ${file.name}`, Math.min(at + step, file.size), file.size);
    }
    const plainHex = plain.hex();
    if (!st.over) {
      const check = e2e ? await sealCheck(e2e.secret, plainHex) : undefined;
      conn.notify(FileEnd, { file: ack.file, sha256: e2e ? wire.hex() : plainHex, check });
    }
    const result = await st.done.promise;
    msg.file = { label: `${file.name}: ${result}; SHA-256 ${plainHex}` };
    this.convs.show(this.convs.open);
    return result;
  }

  /** Takes the sendfile frames; false for any other. Called in order, one at a time. */
  async push(f: RawFrame): Promise<boolean> {
    switch (f.type) {
      case FileCredit.type: {
        const c = FileCredit.decode(f), st = this.#sending.get(c.file);
        if (st && c.n > st.credit) st.credit = c.n, st.wake?.();
        return true;
      }
      case FileVerified.type:
      case FileStored.type:
      case FileCancelled.type:
        this.#ended(f);
        return true;
      case FileIncoming.type:
        await this.#incoming(FileIncoming.decode(f));
        return true;
      case FileChunk.type:
        await this.#chunk(FileChunk.decode(f));
        return true;
      case FileEnd.type:
        await this.#end(FileEnd.decode(f));
        return true;
    }
    return false;
  }

  #ended(f: RawFrame) {
    const id = String(f.file);
    const st = this.#sending.get(id);
    if (f.type === FileCancelled.type) {
      const c = FileCancelled.decode(f);
      const rx = this.#receiving.get(id);
      if (rx) this.#fail(id, rx, `${c.code}: ${c.message}`);
      st?.done.resolve(`not sent (${c.code}: ${c.message})`);
    } else if (f.type === FileStored.type) {
      const s = FileStored.decode(f);
      st?.done.resolve(`kept by the server for ${s.to} (${s.now} now, ${s.later} later)`);
    } else {
      const v = FileVerified.decode(f);
      st?.done.resolve(v.ok ? `verified by ${v.by}` : `${v.by} found it damaged`);
    }
    if (st) this.#stop(id, st);
  }

  /** A sending transfer is over: its loop stops, whatever it waited for. */
  #stop(id: string, st: Sending, why?: string) {
    this.#sending.delete(id);
    st.over = why ?? "ended";
    if (why) st.done.resolve(why);
    st.wake?.();
  }

  /** The connection dropped: every transfer under way ends (the server has ended them too:
   *  a transfer does not outlive its sessions). */
  dropped(): void {
    for (const [id, st] of this.#sending) this.#stop(id, st, "not sent: the connection dropped");
    for (const [id, rx] of this.#receiving) this.#fail(id, rx, "the connection dropped");
  }

  async #incoming(m: ReturnType<typeof FileIncoming.decode>) {
    const key = m.room ? roomKey(m.room) : dmKey(m.from);
    const title = m.room ? `#${m.room}` : m.from;
    let secret: FileSecret | undefined;
    if (m.sealed) {
      try {
        secret = await openEnvelope(NO_CTX, this.sealer(), m.from, m.sealed);
      } catch (e) {
        this.convs.note(key, title, `a file from ${m.from} could not be opened: ${e}`);
        this.conn()?.notify(FileVerdict, { file: m.file, ok: false });
        return;
      }
    }
    const name = secret?.name ?? m.name;
    const size = secret?.size ?? m.size;
    const msg = this.#show(key, title, m.from, `↓ ${name}`, size, secret !== undefined);
    this.#receiving.set(m.file, {
      from: m.from,
      name,
      size,
      secret,
      next: 0,
      got: 0,
      parts: [],
      plain: new Sha256(),
      wire: new Sha256(),
      msg,
      key,
    });
  }

  async #chunk(c: ReturnType<typeof FileChunk.decode>) {
    const rx = this.#receiving.get(c.file);
    if (!rx) return;
    if (!c.data || c.n !== rx.next) return this.#fail(c.file, rx, `chunk ${c.n} out of order`);
    let plain = c.data;
    if (rx.secret) {
      rx.wire.update(c.data);
      try {
        plain = await openBytes(rx.secret, c.n, c.data);
      } catch (e) {
        return this.#fail(c.file, rx, String(e));
      }
    }
    if (rx.got + plain.length > rx.size) return this.#fail(c.file, rx, "more bytes than offered");
    rx.plain.update(plain);
    rx.parts.push(new Blob([plain as BlobPart]));
    rx.got += plain.length;
    rx.next++;
    this.conn()?.notify(FileAck, { file: c.file, n: c.n });
    this.#progress(rx.key, rx.msg, `↓ ${rx.name}`, rx.got, rx.size);
  }

  async #end(e: ReturnType<typeof FileEnd.decode>) {
    const rx = this.#receiving.get(e.file);
    if (!rx) return;
    this.#receiving.delete(e.file);
    const plainHex = rx.plain.hex();
    const ok = rx.got === rx.size &&
      (rx.secret
        ? rx.wire.hex() === e.sha256 && e.check !== undefined &&
          await openCheck(rx.secret, e.check) === plainHex
        : plainHex === e.sha256);
    this.conn()?.notify(FileVerdict, { file: e.file, ok });
    if (!ok) return this.#fail(e.file, rx, "its size or SHA-256 did not match: not kept");
    // Served as bytes to save, never as a page of this origin.
    const url = URL.createObjectURL(new Blob(rx.parts, { type: "application/octet-stream" }));
    rx.msg.file = {
      label: `${rx.name} (${sizeText(rx.size)}), SHA-256 verified: ${plainHex}`,
      url,
      name: rx.name,
    };
    this.convs.show(this.convs.open);
  }

  #fail(id: string, rx: Receiving, why: string) {
    this.#receiving.delete(id);
    rx.msg.file = { label: `${rx.name} from ${rx.from}: not received (${why})` };
    this.convs.show(this.convs.open);
  }

  /** The file's line in its conversation, updated as it moves. */
  #show(key: string, title: string, sender: string, label: string, size: number, e2e: boolean) {
    const msg: Msg = {
      sender,
      text: `${label} (${sizeText(size)})`,
      ts: Date.now(),
      away: false,
      mark: e2e ? "end-to-end encrypted" : undefined,
      file: { label: "0%", done: 0 },
    };
    this.convs.add(key, title, msg, false);
    return msg;
  }

  #progress(key: string, msg: Msg, label: string, got: number, size: number) {
    const done = size === 0 ? 1 : got / size;
    msg.file = { label: `${label}: ${Math.floor(done * 100)}%`, done };
    const now = performance.now();
    if (now - this.#drawn < PROGRESS_MS && done < 1) return;
    this.#drawn = now;
    if (this.convs.open === key) this.convs.show(key);
  }
}
