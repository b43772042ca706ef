/**
 * File transfer frames, shared by the sendfile plugin's client and server halves. A transfer
 * streams through the server in chunks; nothing holds a whole file. Flow control is end to
 * end: the sender keeps at most `window` chunks beyond the last one the receiver acknowledged.
 *
 *   sender                      server                      receiver
 *   sendfile.offer {to,name,size} -> ack {file, chunk, window}
 *                                  sendfile.incoming {file, from, name, size} ->
 *   sendfile.chunk {file,n,data} ->  sendfile.chunk {file, n, data} ->
 *                 <- sendfile.credit {file, n}   <- sendfile.ack {file, n}
 *   sendfile.end {file, sha256}  ->  sendfile.end {file, sha256} ->
 *          <- sendfile.verified {file, by, ok}   <- sendfile.verdict {file, ok}
 *   either side: sendfile.cancel {file, reason} -> the other gets sendfile.cancelled
 *
 * Chunks, acks, ends, verdicts and cancels carry no request id and get no answer: a problem
 * with one ends that transfer with sendfile.cancelled, never an error frame.
 */
import { ChatError } from "../../protocol/errors.ts";
import { field, message, type RawFrame } from "../../protocol/spec.ts";

/** Raw bytes per chunk. 32 KiB is 43,692 characters of base64: with the frame around it, well
 *  under the default 64 KiB frame limit, and large enough that the per-frame cost is small. */
export const CHUNK_BYTES = 32 * 1024;
/** A chunk frame's size on the wire, at most (base64 in a JSON line, for a peer that does not
 *  read binary frames; a binary one is a third smaller). */
export const CHUNK_FRAME_BYTES = Math.ceil(CHUNK_BYTES / 3) * 4 + 200;
/** Transfers a session may have going at once, sending and receiving together. */
export const MAX_TRANSFERS_PER_SESSION = 8;
/** Longest file name accepted in an offer (UTF-16 units); the receiver shortens it further. */
const MAX_OFFER_NAME = 1000;
/** Largest file size the protocol carries (2^53 - 1 bytes: any real file). */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Longest sealed file key and name (base64url): a 1000-unit name is at most 3000 bytes. */
const MAX_SEALED = 8192;

/** The transfer id: `f<digits>`, given by the server. */
const fileId = (f: RawFrame) => field.string(f, "file", { min: 2, max: 24 });
const index = (f: RawFrame, key: string) => {
  const n = field.number(f, key);
  if (!Number.isSafeInteger(n) || n < 0) throw bad(key, "must be a whole number from 0");
  return n;
};

/** sendfile.offer {to | room, name, size, sealed?} -> ack {file, chunk, window, stored} |
 *  NO_SUCH_USER | NO_SUCH_ROOM | NOT_A_MEMBER | KICKED | ANNOUNCE_ONLY | TOO_MANY_TRANSFERS |
 *  FILE_TOO_LARGE | QUOTA_EXCEEDED. Exactly one of `to` (a user) and `room`. `name` may be
 *  anything: receivers make it safe (see names.ts). `sealed` (end-to-end encrypted files only)
 *  is the file key and real name sealed for the receiver; the server passes it on unread. */
export interface Offer {
  to?: string;
  room?: string;
  name: string;
  size: number;
  sealed?: string;
}
export const FileOffer = message("sendfile.offer", (f): Offer => {
  const to = field.optional(f, "to", () => field.string(f, "to", { min: 1 }));
  // A room may be written `#cs350` or `@cs350`, as in the groups plugin's frames.
  const room = field.optional(f, "room", () => field.string(f, "room", { min: 1 }))
    ?.replace(/^[#@]/, "");
  if ((to === undefined) === (room === undefined)) {
    throw new ChatError("BAD_FRAME", 'give exactly one of "to" and "room"');
  }
  return {
    to,
    room,
    name: field.string(f, "name", { min: 1, max: MAX_OFFER_NAME }),
    size: sizeOf(f),
    sealed: sealedOf(f, "sealed", MAX_SEALED),
  };
}, {
  /** `stored`: the server keeps the file (the receiver is away, or it is for a room) and
   *  hands it on as each recipient connects; otherwise it is relayed live. */
  ack: (f) => ({
    file: fileId(f),
    chunk: index(f, "chunk"),
    window: index(f, "window"),
    stored: field.optional(f, "stored", () => field.boolean(f, "stored")) ?? false,
  }),
});

/** sendfile.incoming {file, from, name, size, room?, sealed?, kept?, sent?}: pushed to the
 *  receiver when a transfer to it starts. `kept`: it comes from the server's store (the
 *  sender may be gone); `sent` (ms since 1970): when, if the receiver was away then. */
export interface Incoming {
  file: string;
  from: string;
  name: string;
  size: number;
  room?: string;
  sealed?: string;
  kept?: boolean;
  sent?: number;
}
export const FileIncoming = message("sendfile.incoming", (f): Incoming => ({
  file: fileId(f),
  from: field.text(f, "from"),
  name: field.string(f, "name", { min: 1, max: MAX_OFFER_NAME }),
  size: sizeOf(f),
  room: field.optional(f, "room", () => field.text(f, "room")),
  sealed: sealedOf(f, "sealed", MAX_SEALED),
  kept: field.optional(f, "kept", () => field.boolean(f, "kept")),
  sent: field.optional(f, "sent", () => index(f, "sent")),
}));

/** sendfile.stored {file, name, to, now, later}: the server has the whole file, checked, and
 *  hands it to `now` recipients at once and to `later` ones when they connect. */
export const FileStored = message("sendfile.stored", (f) => ({
  file: fileId(f),
  // The sender's own offer name echoed back: as free as the offer's (shown made safe).
  name: field.string(f, "name", { min: 1, max: MAX_OFFER_NAME }),
  to: field.text(f, "to"),
  now: index(f, "now"),
  later: index(f, "later"),
}));

/** sendfile.chunk {file, n, data}: chunk n (from 0), sender to server to receiver. `data` is
 *  the chunk's bytes: the body of a binary frame (docs/PROTOCOL.md, "Binary frames") between
 *  peers that said they read them, base64 in the JSON line otherwise. Data that is not bytes
 *  (bad base64, over CHUNK_BYTES) decodes as undefined: like every problem with a chunk, it
 *  ends its transfer with sendfile.cancelled rather than an error frame. */
export const FileChunk = message("sendfile.chunk", (f) => {
  const file = fileId(f);
  const n = index(f, "n");
  let data: Uint8Array | undefined;
  try {
    data = field.bytes(f, "data", { max: CHUNK_BYTES });
  } catch {
    data = undefined;
  }
  return { file, n, data };
}, { windowed: true });

/** sendfile.ack {file, n}: the receiver has written chunks up to n. */
export const FileAck = message(
  "sendfile.ack",
  (f) => ({ file: fileId(f), n: index(f, "n") }),
  { windowed: true },
);
/** sendfile.credit {file, n}: relayed to the sender; it may send up to n + window. */
export const FileCredit = message("sendfile.credit", (f) => ({
  file: fileId(f),
  n: index(f, "n"),
}), { windowed: true });

/** sendfile.end {file, sha256, check?}: every chunk is sent; the SHA-256 (hex) of the bytes
 *  sent. For an encrypted file those are ciphertext, and `check` is the plaintext's SHA-256
 *  sealed with the file key, which only the receiver can open. */
export const FileEnd = message(
  "sendfile.end",
  (f): { file: string; sha256: string; check?: string } => {
    const sha256 = field.string(f, "sha256", { min: 64, max: 64 });
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad("sha256", "must be 64 lower-case hex digits");
    return { file: fileId(f), sha256, check: sealedOf(f, "check", 200) };
  },
);

/** sendfile.verdict {file, ok}: the receiver checked the SHA-256 (and kept the file if ok). */
export const FileVerdict = message("sendfile.verdict", (f) => ({
  file: fileId(f),
  ok: field.boolean(f, "ok"),
}));
/** sendfile.verified {file, name, by, ok}: the verdict, relayed to the sender (for a stored
 *  file, later, once per recipient, if the sender is online then). */
export const FileVerified = message("sendfile.verified", (f) => ({
  file: fileId(f),
  name: field.string(f, "name", { min: 1, max: MAX_OFFER_NAME }),
  by: field.text(f, "by"),
  ok: field.boolean(f, "ok"),
}));

/** sendfile.cancel {file, reason}: either side gives up. */
export const FileCancel = message("sendfile.cancel", (f) => ({
  file: fileId(f),
  reason: field.text(f, "reason", { max: 200 }),
}));
/** sendfile.cancelled {file, code, message}: the transfer ended unfinished (the other side
 *  cancelled or disconnected, or a frame broke the rules). */
export const FileCancelled = message("sendfile.cancelled", (f) => ({
  file: fileId(f),
  code: field.text(f, "code"),
  message: field.text(f, "message"),
}));

/** `1.2 MB`, `532 KB`, `17 bytes`: sizes as people read them (powers of 1000). */
export function sizeText(n: number): string {
  if (n < 1000) return `${n} byte${n === 1 ? "" : "s"}`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) v /= 1000, u++;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

function sizeOf(f: RawFrame): number {
  const n = index(f, "size");
  if (n > MAX_SIZE) throw bad("size", "is too large");
  return n;
}

/** An optional opaque base64url field (sealed data the server never reads). */
function sealedOf(f: RawFrame, key: string, max: number): string | undefined {
  return field.optional(f, key, () => {
    const v = field.string(f, key, { min: 1, max });
    if (!BASE64URL.test(v)) throw bad(key, "must be base64url");
    return v;
  });
}

function bad(key: string, problem: string) {
  return new ChatError("BAD_FRAME", `field "${key}" ${problem}`);
}
