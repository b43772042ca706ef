/**
 * The one edge where input is checked, in this order: size (the splitter, before buffering),
 * UTF-8, JSON object with a valid type, known type, login state, then the frame's decoder.
 * Handlers receive typed, trusted values; whatever they throw becomes an error frame.
 */
import { parseFrame } from "../protocol/core.ts";
import { ChatError, type ErrorCode } from "../protocol/errors.ts";
import { decodeUtf8 } from "../protocol/framing.ts";
import type { RawFrame } from "../protocol/spec.ts";
import { handlerCtx } from "./plugin_host.ts";
import type { ChatServer } from "./server.ts";
import type { ServerSession } from "./session.ts";
import { enterTextMode, handleTextLine } from "./text_mode.ts";

export type Outcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; code: ErrorCode; message: string };

/** Handles one complete line from a connection; resolves when its handler has finished. */
export async function handleLine(server: ChatServer, s: ServerSession, bytes: Uint8Array) {
  const line = decodeUtf8(bytes);
  if (line === undefined) {
    return server.send(s, {
      type: "error",
      code: "BAD_UTF8",
      message: "the line was not valid UTF-8",
    });
  }
  if (line.trim() === "") return;
  if (!s.modeChosen) {
    // The first non-empty line decides: JSON clients start with "{", anything else is nc/telnet.
    s.modeChosen = true;
    if (!line.trimStart().startsWith("{")) enterTextMode(server, s);
  }
  if (s.mode === "text") {
    await handleTextLine(server, s, line);
  } else {
    let frame: RawFrame;
    try {
      frame = parseFrame(line);
    } catch (e) {
      const err = e as ChatError;
      return server.send(s, { type: "error", code: err.code, message: err.message });
    }
    const out = await dispatch(server, s, frame);
    const re = frame.id === undefined ? {} : { re: frame.id };
    if (!out.ok) server.send(s, { type: "error", ...re, code: out.code, message: out.message });
    else if (frame.id !== undefined) server.send(s, { ...out.result, type: "ack", re: frame.id });
  }
  if (s.quitting) await server.closeSession(s, "quit");
}

/** Routes one parsed frame to its handler and reports the outcome; never throws. */
export async function dispatch(
  server: ChatServer,
  s: ServerSession,
  frame: RawFrame,
): Promise<Outcome> {
  const entry = server.registry.handlers.get(frame.type);
  if (!entry) return fail("UNKNOWN_TYPE", `no enabled plugin handles "${frame.type}"`);
  if (!entry.preAuth && s.name === undefined) {
    return fail("NOT_LOGGED_IN", "log in first with session.login");
  }
  try {
    const msg = entry.spec.decode(frame);
    // Await only real promises: a synchronous handler's ack is then queued in the same turn as
    // its effects, so no other connection's frames can slip in between (and it costs no tick).
    const r = entry.handler(msg, s.ctx ??= handlerCtx(server, s));
    const result = r instanceof Promise ? await r : r;
    return { ok: true, result: result ?? {} };
  } catch (e) {
    if (e instanceof ChatError) return fail(e.code, e.message);
    // A bug, not bad input: log it whole here, tell the client only a stable code.
    server.log.error(`handler for ${frame.type} failed: ${e instanceof Error ? e.stack : e}`);
    return fail("INTERNAL", "the server failed while handling this request");
  }
}

function fail(code: ErrorCode, message: string): Outcome {
  return { ok: false, code, message };
}
