/**
 * The sendfile plugin's server half: relays a transfer between two sessions online, chunk by
 * chunk, checking the order and the size, and never holding more than the frames in flight.
 * Either side leaving ends the transfer and tells the other.
 */
import type { HandlerCtx, ServerApi, Session } from "../types.ts";
import {
  CHUNK_BYTES,
  CHUNK_FRAME_BYTES,
  decodedBytes,
  FileAck,
  FileCancel,
  FileCancelled,
  FileChunk,
  FileCredit,
  FileEnd,
  FileIncoming,
  FileOffer,
  FileVerdict,
  FileVerified,
  MAX_TRANSFERS_PER_SESSION,
} from "./protocol.ts";

/** The send queue a transfer may fill with chunks in flight: a quarter, so chat and other
 *  transfers to the same reader still fit. */
const WINDOW_SHARE = 4;

interface Transfer {
  id: string;
  from: Session;
  to: Session;
  size: number;
  /** Next chunk index expected, bytes relayed so far. */
  next: number;
  bytes: number;
  /** Set once sendfile.end passed: only the verdict is still to come. */
  ended: boolean;
}

export function sendfileServer(api: ServerApi) {
  const transfers = new Map<string, Transfer>();
  /** Transfers each session is part of (either side). */
  const mine = api.sessionState(() => new Set<Transfer>());
  const window = Math.max(
    1,
    Math.floor(api.limits.sendQueueBytes / WINDOW_SHARE / CHUNK_FRAME_BYTES),
  );
  let nextId = 1;

  const end = (t: Transfer) => {
    transfers.delete(t.id);
    mine(t.from).delete(t);
    mine(t.to).delete(t);
  };
  /** Ends a transfer and tells both sides (or the one still there) why. */
  const cancel = (t: Transfer, message: string, tell: Session[] = [t.from, t.to]) => {
    end(t);
    for (const s of tell) {
      api.send(s, FileCancelled, { file: t.id, code: "TRANSFER_CANCELLED", message });
    }
    api.log.info(`transfer ${t.id} ${t.from.name} -> ${t.to.name} cancelled: ${message}`);
  };
  /** The transfer this frame names, if this session is on the given side of it. */
  const find = (file: string, ctx: HandlerCtx, side: "from" | "to") => {
    const t = transfers.get(file);
    return t && t[side] === ctx.session ? t : undefined;
  };

  // sendfile.offer {to, name, size} -> ack {file, chunk, window} | NO_SUCH_USER | USER_OFFLINE
  //   | CANNOT_RECEIVE | TOO_MANY_TRANSFERS
  api.on(FileOffer, ({ to, name, size }, ctx) => {
    const me = ctx.session;
    const who = api.accounts.canonical(to) ?? ctx.fail("NO_SUCH_USER", `there is no user "${to}"`);
    const target = api.sessions.get(who) ??
      ctx.fail("USER_OFFLINE", `${who} is not online; files wait only for those online`);
    if (target.mode === "text") ctx.fail("CANNOT_RECEIVE", `${who} is on a plain-text connection`);
    if (
      mine(me).size >= MAX_TRANSFERS_PER_SESSION || mine(target).size >= MAX_TRANSFERS_PER_SESSION
    ) {
      ctx.fail("TOO_MANY_TRANSFERS", `at most ${MAX_TRANSFERS_PER_SESSION} transfers at once`);
    }
    const t: Transfer = {
      id: `f${nextId++}`,
      from: me,
      to: target,
      size,
      next: 0,
      bytes: 0,
      ended: false,
    };
    transfers.set(t.id, t);
    mine(me).add(t);
    mine(target).add(t);
    api.send(target, FileIncoming, { file: t.id, from: me.name!, name, size });
    return { file: t.id, chunk: CHUNK_BYTES, window };
  });

  // sendfile.chunk {file, n, data}: in order, at most CHUNK_BYTES, never past the offered size.
  api.on(FileChunk, ({ file, n, data }, ctx) => {
    const t = find(file, ctx, "from");
    if (!t || t.ended) return;
    const bytes = decodedBytes(data);
    if (n !== t.next || bytes > CHUNK_BYTES || t.bytes + bytes > t.size) {
      return cancel(t, `chunk ${n} broke the rules (expected ${t.next}, at most the offered size)`);
    }
    t.next++;
    t.bytes += bytes;
    api.send(t.to, FileChunk, { file, n, data });
  });

  // sendfile.ack {file, n} from the receiver -> sendfile.credit {file, n} to the sender
  api.on(FileAck, ({ file, n }, ctx) => {
    const t = find(file, ctx, "to");
    if (t) api.send(t.from, FileCredit, { file, n });
  });

  // sendfile.end {file, sha256}: only once every offered byte went through.
  api.on(FileEnd, ({ file, sha256 }, ctx) => {
    const t = find(file, ctx, "from");
    if (!t || t.ended) return;
    if (t.bytes !== t.size) return cancel(t, `ended after ${t.bytes} of ${t.size} bytes`);
    t.ended = true;
    api.send(t.to, FileEnd, { file, sha256 });
  });

  // sendfile.verdict {file, ok} from the receiver -> sendfile.verified {file, by, ok}
  api.on(FileVerdict, ({ file, ok }, ctx) => {
    const t = find(file, ctx, "to");
    if (!t || !t.ended) return;
    end(t);
    api.send(t.from, FileVerified, { file, by: t.to.name!, ok });
  });

  // sendfile.cancel {file, reason}: either side; the other is told.
  api.on(FileCancel, ({ file, reason }, ctx) => {
    const t = transfers.get(file);
    if (!t || (t.from !== ctx.session && t.to !== ctx.session)) return;
    const other = t.from === ctx.session ? t.to : t.from;
    cancel(t, `${ctx.session.name} cancelled: ${reason}`, [other]);
  });

  api.onLogout((s) => {
    for (const t of [...mine(s)]) {
      cancel(t, `${s.name} disconnected`, [t.from === s ? t.to : t.from]);
    }
  });
}
