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
/** A chunk frame's size on the wire, at most (base64 plus the JSON around it). */
export const CHUNK_FRAME_BYTES = Math.ceil(CHUNK_BYTES / 3) * 4 + 200;
/** Transfers a session may have going at once, sending and receiving together. */
export const MAX_TRANSFERS_PER_SESSION = 8;
/** Longest file name accepted in an offer (UTF-16 units); the receiver shortens it further. */
const MAX_OFFER_NAME = 1000;
/** Largest file size the protocol carries (2^53 - 1 bytes: any real file). */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The transfer id: `f<digits>`, given by the server. */
const fileId = (f: RawFrame) => field.string(f, "file", { min: 2, max: 24 });
const index = (f: RawFrame, key: string) => {
  const n = field.number(f, key);
  if (!Number.isSafeInteger(n) || n < 0) throw bad(key, "must be a whole number from 0");
  return n;
};

/** sendfile.offer {to, name, size} -> ack {file, chunk, window} | NO_SUCH_USER | USER_OFFLINE
 *  | TOO_MANY_TRANSFERS. `name` may be anything: receivers make it safe (see names.ts). */
export const FileOffer = message("sendfile.offer", (f) => ({
  to: field.string(f, "to", { min: 1 }),
  name: field.string(f, "name", { min: 1, max: MAX_OFFER_NAME }),
  size: sizeOf(f),
}));

export const OfferAck = message("ack", (f) => ({
  file: fileId(f),
  chunk: index(f, "chunk"),
  window: index(f, "window"),
}));

/** sendfile.incoming {file, from, name, size}: pushed to the receiver when an offer is made. */
export const FileIncoming = message("sendfile.incoming", (f) => ({
  file: fileId(f),
  from: field.text(f, "from"),
  name: field.string(f, "name", { min: 1, max: MAX_OFFER_NAME }),
  size: sizeOf(f),
}));

/** sendfile.chunk {file, n, data}: chunk n (from 0) as base64, sender to server to receiver. */
export const FileChunk = message("sendfile.chunk", (f) => {
  const data = field.string(f, "data", { max: CHUNK_FRAME_BYTES });
  if (!BASE64.test(data) || data.length % 4 !== 0) throw bad("data", "must be base64");
  return { file: fileId(f), n: index(f, "n"), data };
});

/** sendfile.ack {file, n}: the receiver has written chunks up to n. */
export const FileAck = message("sendfile.ack", (f) => ({ file: fileId(f), n: index(f, "n") }));
/** sendfile.credit {file, n}: relayed to the sender; it may send up to n + window. */
export const FileCredit = message("sendfile.credit", (f) => ({
  file: fileId(f),
  n: index(f, "n"),
}));

/** sendfile.end {file, sha256}: every chunk is sent; the whole file's SHA-256 (hex). */
export const FileEnd = message("sendfile.end", (f) => {
  const sha256 = field.string(f, "sha256", { min: 64, max: 64 });
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad("sha256", "must be 64 lower-case hex digits");
  return { file: fileId(f), sha256 };
});

/** sendfile.verdict {file, ok}: the receiver checked the SHA-256 (and kept the file if ok). */
export const FileVerdict = message("sendfile.verdict", (f) => ({
  file: fileId(f),
  ok: field.boolean(f, "ok"),
}));
/** sendfile.verified {file, by, ok}: the verdict, relayed to the sender. */
export const FileVerified = message("sendfile.verified", (f) => ({
  file: fileId(f),
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

/** Bytes that `data` (base64) decodes to. */
export function decodedBytes(data: string): number {
  const pad = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return (data.length / 4) * 3 - pad;
}

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

function bad(key: string, problem: string) {
  return new ChatError("BAD_FRAME", `field "${key}" ${problem}`);
}
