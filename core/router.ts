/**
 * The one edge where input is checked, in this order: size (the splitter, before buffering),
 * UTF-8, JSON object with a valid type, known type, login state, then the frame's decoder.
 * Handlers receive typed, trusted values; whatever they throw becomes an error frame.
 *
 * The path is synchronous unless a handler returns a promise: a synchronous handler's ack is
 * queued in the same turn as its effects (no other connection's frame can run in between) and
 * the hot path allocates no promise per frame. The read loop awaits a handler's promise before
 * the next frame, except for handlers registered as pipelined (their order-dependent work is
 * synchronous; they wait only for the log's commit): up to PIPELINE_DEPTH of those may be
 * waiting, and their answers still go out in order.
 */
import { parseFrame, txnOf } from "../protocol/core.ts";
import { ChatError, type ErrorCode } from "../protocol/errors.ts";
import { decodeUtf8 } from "../protocol/framing.ts";
import type { RawFrame } from "../protocol/spec.ts";
import type { HandlerResult } from "../plugins/types.ts";
import { handlerCtx } from "./plugin_host.ts";
import type { ChatServer } from "./server.ts";
import type { ServerSession } from "./session.ts";
import { enterTextMode, handleTextLine } from "./text_mode.ts";
import { CORE } from "./core_frames.ts";
import { type Outcome, requestKey } from "./txn.ts";

export type { Outcome };

/** Handles one complete line; returns a promise only if its handler is still running. */
export function handleLine(
  server: ChatServer,
  s: ServerSession,
  bytes: Uint8Array,
): Promise<void> | void {
  const line = decodeUtf8(bytes);
  if (line === undefined) return server.error(s, "BAD_UTF8", "the line was not valid UTF-8");
  if (line.trim() === "") return void refused(server, s); // free lines would be a free flood
  if (!s.modeChosen) {
    // The first non-empty line decides: JSON clients start with "{", anything else is nc/telnet.
    s.modeChosen = true;
    if (!line.trimStart().startsWith("{")) enterTextMode(server, s);
  }
  if (s.mode === "text") {
    if (refused(server, s)) return;
    return handleTextLine(server, s, line).then(() => afterLine(server, s));
  }
  let frame: RawFrame;
  try {
    frame = parseFrame(line);
  } catch (e) {
    return server.error(s, (e as ChatError).code, (e as ChatError).message);
  }
  // A windowed frame (a file chunk or its ack) is free while it moves its stream; its handler
  // charges it otherwise (HandlerCtx.meter).
  const entry = server.registry.handlers.get(frame.type);
  if (!entry?.spec.windowed && refused(server, s, frame.id)) return;
  const pipelined = entry?.pipelined === true;
  // A frame that is not pipelined waits until every pipelined one before it was answered.
  if (s.pipeline && !pipelined) return s.pipeline.then(() => route(server, s, frame, false));
  return route(server, s, frame, pipelined);
}

/** Takes a token from the session's frame budget; when empty, answers RATE_LIMITED with the
 *  time to wait and the frame is dropped (the refusal counts as a bad frame). */
function refused(server: ChatServer, s: ServerSession, re?: string): boolean {
  const over = server.guard.spend(s);
  if (over) server.error(s, over.code, over.message, re, over.extra);
  return over !== undefined;
}

/** Frames one connection may have waiting for their answers while it reads on: 64 one-line
 *  messages span a few log commits, and bound what a sender can make the server hold. */
const PIPELINE_DEPTH = 64;

function route(server: ChatServer, s: ServerSession, frame: RawFrame, pipelined: boolean) {
  const out = dispatch(server, s, frame);
  // A pipelined frame answered at once (a refusal, a repeated txn) still waits its turn.
  if (!(out instanceof Promise) && !(pipelined && s.pipeline)) {
    return answer(server, s, frame, out);
  }
  if (!pipelined) return (out as Promise<Outcome>).then((o) => answer(server, s, frame, o));
  // Answered after the one before it; the read loop goes on unless too many are waiting.
  const before = s.pipeline;
  s.pipelineDepth++;
  const done: Promise<void> = Promise.all([before, out])
    .then(([, o]) => answer(server, s, frame, o))
    .catch((e) => server.log.error(`answering ${frame.type}: ${e}`))
    .finally(() => {
      s.pipelineDepth--;
      if (s.pipeline === done) s.pipeline = undefined;
    });
  s.pipeline = done;
  if (s.pipelineDepth >= PIPELINE_DEPTH) return done;
}

function answer(server: ChatServer, s: ServerSession, frame: RawFrame, out: Outcome) {
  if (!out.ok) server.error(s, out.code, out.message, frame.id, out.extra);
  else if (frame.id !== undefined) server.send(s, { ...out.result, type: "ack", re: frame.id });
  return afterLine(server, s);
}

function afterLine(server: ChatServer, s: ServerSession): Promise<void> | void {
  if (s.quitting) return server.closeSession(s, "quit");
}

/** Routes one parsed frame to its handler and reports the outcome; never throws. */
export function dispatch(
  server: ChatServer,
  s: ServerSession,
  frame: RawFrame,
): Outcome | Promise<Outcome> {
  const entry = server.registry.handlers.get(frame.type);
  if (!entry) return fail("UNKNOWN_TYPE", `no enabled plugin handles "${frame.type}"`);
  if (!entry.preAuth && s.name === undefined) {
    return fail("NOT_LOGGED_IN", "log in first with session.login");
  }
  const caught = (e: unknown): Outcome => {
    if (e instanceof ChatError) return fail(e.code, e.message, e.extra);
    // A bug, not bad input: log it whole here, tell the client only a stable code.
    server.log.error(`handler for ${frame.type} failed: ${e instanceof Error ? e.stack : e}`);
    return fail("INTERNAL", "the server failed while handling this request");
  };
  let msg: unknown;
  try {
    msg = entry.spec.decode(frame);
  } catch (e) {
    return caught(e);
  }
  const run = (): Outcome | Promise<Outcome> => {
    try {
      const r = entry.handler(msg, s.ctx ??= handlerCtx(server, s));
      return r instanceof Promise ? r.then(ok, caught) : ok(r);
    } catch (e) {
      return caught(e);
    }
  };
  // A request with a transaction id runs once per account and txn; a repeat (a client that
  // resent it after a drop) gets the recorded answer (core/txn.ts). The core's own frames
  // are left out: login and quit are safe to repeat, and passwd's answer is a secret.
  const txn = txnOf(frame);
  if (txn === undefined || s.name === undefined || entry.plugin === CORE) return run();
  return server.txns.run(s.name, txn, requestKey(frame), run);
}

function ok(result: HandlerResult): Outcome {
  return { ok: true, result: result ?? {} };
}

function fail(code: ErrorCode, message: string, extra?: Record<string, unknown>): Outcome {
  return { ok: false, code, message, extra };
}
