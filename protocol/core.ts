/**
 * Core frames: the envelope every plugin frame shares, and the handful of frames the core itself
 * speaks (welcome, ack, error, session.*). Plugin frames live in each plugin's protocol.ts.
 */
import { ChatError, ERROR_CODE_PATTERN } from "./errors.ts";
import { field, message, type RawFrame } from "./spec.ts";
import { decodeUtf8 } from "./framing.ts";

/** `<namespace>.<verb>` or a bare core word; lower case so types compare exactly. */
const TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const MAX_TYPE_LENGTH = 64;
const MAX_ID_LENGTH = 64;
/** A transaction id (`txn`, docs/PROTOCOL.md "Transaction ids"): chosen by the client, kept by
 *  the server with the answer, so printable ASCII (no spaces) and as short as an id. */
const TXN_PATTERN = /^[\x21-\x7e]{1,64}$/;

/** Parses one line into an untrusted frame: a JSON object with a valid `type`, optional `id`
 *  and optional `txn`. */
export function parseFrame(line: string): RawFrame {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ChatError("BAD_JSON", "the line is not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ChatError("BAD_JSON", "a frame must be a JSON object");
  }
  const f = v as Record<string, unknown>;
  if (typeof f.type !== "string" || f.type.length > MAX_TYPE_LENGTH || !TYPE_PATTERN.test(f.type)) {
    throw new ChatError("BAD_FRAME", 'field "type" must be a name like "dm.send"');
  }
  if (f.id !== undefined && (typeof f.id !== "string" || f.id.length > MAX_ID_LENGTH)) {
    throw new ChatError("BAD_FRAME", `field "id" must be a string of at most ${MAX_ID_LENGTH}`);
  }
  if (f.txn !== undefined && (typeof f.txn !== "string" || !TXN_PATTERN.test(f.txn))) {
    throw new ChatError("BAD_FRAME", 'field "txn" must be 1 to 64 printable ASCII characters');
  }
  return f as RawFrame;
}

/** Parses a binary frame's bytes (framing.ts: header line, `\n`, body) into an untrusted
 *  frame whose `data` is the body, as bytes; a `data` in the header is replaced. */
export function parseBinaryFrame(bytes: Uint8Array): RawFrame {
  const nl = bytes.indexOf(0x0a);
  const header = nl === -1 ? undefined : decodeUtf8(bytes.subarray(0, nl));
  if (header === undefined) {
    throw new ChatError("BAD_FRAME", "a binary frame must start with a UTF-8 JSON header line");
  }
  const f = parseFrame(header);
  f.data = bytes.subarray(nl + 1);
  return f;
}

/** The frame's transaction id, once parseFrame has checked it. */
export function txnOf(f: RawFrame): string | undefined {
  return typeof f.txn === "string" ? f.txn : undefined;
}

// Server -> client ------------------------------------------------------------------------------

/** welcome {server, version, protocol, plugins[], limits}: the first frame on every connection. */
export const Welcome = message("welcome", (f) => ({
  server: field.text(f, "server", { max: 200 }),
  version: field.text(f, "version", { max: 100 }),
  protocol: field.number(f, "protocol"),
  plugins: field.textArray(f, "plugins"),
  limits: field.object(f, "limits"),
  /** The server reads binary frames (framing.ts); a server before them leaves it out. */
  binary: field.optional(f, "binary", () => field.boolean(f, "binary")) ?? false,
}));

/** ack {re, ...result}: the request `re` succeeded; extra fields are the request's result. */
export const Ack = message("ack", (f) => ({ ...f, re: field.string(f, "re") }));

/** error {re?, code, message}: a request failed, or (without re) the connection misbehaved. */
export const ErrorFrame = message("error", (f) => {
  const code = field.string(f, "code");
  return {
    re: field.optionalString(f, "re"),
    // A code this client does not know (a newer server's, a plugin it lacks) is shown by
    // name; one that is not a code at all is the server failing.
    code: ERROR_CODE_PATTERN.test(code) ? code : "INTERNAL",
    message: field.text(f, "message"),
    /** With RATE_LIMITED: how long to wait before trying again. */
    retryAfterMs: field.optionalNumber(f, "retryAfterMs"),
  };
});

/** session.closing {code, message}: sent just before the server closes the connection. */
export const SessionClosing = message("session.closing", (f) => ({
  code: field.text(f, "code"),
  message: field.text(f, "message"),
}));

// Client -> server ------------------------------------------------------------------------------

/** Longest password or token accepted on the wire (the account rules allow less). */
const MAX_SECRET_LENGTH = 4096;

/** session.account {name} -> ack {name, exists}: a client asks for a new password twice. */
export const SessionAccount = message("session.account", (f) => ({
  name: field.string(f, "name"),
}), { ack: (f) => ({ name: field.text(f, "name"), exists: field.boolean(f, "exists") }) });

/** Whether a client reads binary frames (`binary: true` at login or resume): the server then
 *  sends it bytes (file chunks) as binary frames rather than base64 in JSON. */
const readsBinary = (f: RawFrame) =>
  field.optional(f, "binary", () => field.boolean(f, "binary")) ?? false;

/** session.login {name, password, binary?} -> ack {name, created, token} | BAD_NAME |
 *  WEAK_PASSWORD | BAD_PASSWORD | RATE_LIMITED | NAME_IN_USE | ALREADY_LOGGED_IN. A new name
 *  is created with this password; `token` resumes the session later (session.resume). */
export const SessionLogin = message("session.login", (f) => ({
  name: field.string(f, "name"),
  password: field.string(f, "password", { max: MAX_SECRET_LENGTH }),
  binary: readsBinary(f),
}), {
  ack: (f) => ({
    name: field.text(f, "name"),
    created: field.boolean(f, "created"),
    token: field.string(f, "token", { max: MAX_SECRET_LENGTH }),
  }),
});

/** session.resume {name, token, binary?} -> ack {name} | BAD_TOKEN | RATE_LIMITED |
 *  NAME_IN_USE | ... */
export const SessionResume = message("session.resume", (f) => ({
  name: field.string(f, "name"),
  token: field.string(f, "token", { max: MAX_SECRET_LENGTH }),
  binary: readsBinary(f),
}), { ack: (f) => ({ name: field.text(f, "name") }) });

/** session.passwd {old, password} -> ack {token} | BAD_PASSWORD | WEAK_PASSWORD | RATE_LIMITED.
 *  Every earlier resume token of the account stops working. */
export const SessionPasswd = message("session.passwd", (f) => ({
  old: field.string(f, "old", { max: MAX_SECRET_LENGTH }),
  password: field.string(f, "password", { max: MAX_SECRET_LENGTH }),
}), { ack: (f) => ({ token: field.string(f, "token", { max: MAX_SECRET_LENGTH }) }) });

/** session.quit {} -> ack, then the server closes the connection and frees the name. */
export const SessionQuit = message("session.quit", () => ({}));

/** session.ping {} -> ack: a cheap round trip for keepalive and latency checks. */
export const SessionPing = message("session.ping", () => ({}));

/** session.ack {upTo}: no reply. The client has shown every logged message (pushed frames
 *  with a `seq`) up to and including `upTo`; the journal moves its delivery cursor there, and
 *  only acks move it (docs/PROTOCOL.md, "Message ids, cursors and acknowledgements"). */
export const SessionAck = message("session.ack", (f) => ({
  upTo: field.number(f, "upTo"),
}));

/** The fields any pushed frame may carry when it comes from the message log: `seq`, the
 *  log's id (increasing in delivery order); `replay`, "missed" (sent while this client was
 *  away) or "history" (asked for with /history: shown again, never acked); `ts`, send time. */
export function loggedFields(f: RawFrame) {
  let replay: "missed" | "history" | undefined;
  if (f.replay !== undefined) {
    const r = field.text(f, "replay");
    if (r !== "missed" && r !== "history") {
      throw new ChatError("BAD_FRAME", `field "replay" must be "missed" or "history"`);
    }
    replay = r;
  }
  return { seq: field.optionalNumber(f, "seq"), replay, ts: field.optionalNumber(f, "ts") };
}
