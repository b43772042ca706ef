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
import { parseFrame } from "../../protocol/core.ts";
import type { ChatError } from "../../protocol/errors.ts";
import { decodeUtf8 } from "../../protocol/framing.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import type { Hub } from "./hub.ts";
import type { LineHandler, ServerSession } from "./session.ts";
import { enterTextMode, handleTextLine } from "./text_mode.ts";
import { dispatch, type Outcome } from "./dispatch.ts";

/** Handles one complete line; returns a promise only if its handler is still running. */
export function handleLine(hub: Hub, s: ServerSession, bytes: Uint8Array): Promise<void> | void {
  const line = decodeUtf8(bytes);
  if (line === undefined) return hub.error(s, "BAD_UTF8", "the line was not valid UTF-8");
  if (line.trim() === "") return void refused(hub, s); // free lines would be a free flood
  s.onLine ??= chooseMode(hub, s, line);
  return s.onLine(line);
}

/** The first non-empty line decides, once per session: JSON clients start with "{", anything
 *  else is nc/telnet. */
function chooseMode(hub: Hub, s: ServerSession, first: string): LineHandler {
  if (first.trimStart().startsWith("{")) return (line) => jsonLine(hub, s, line);
  enterTextMode(hub, s);
  return (line) => {
    if (refused(hub, s)) return;
    return handleTextLine(hub, s, line).then(() => afterLine(hub, s));
  };
}

function jsonLine(hub: Hub, s: ServerSession, line: string): Promise<void> | void {
  let frame: RawFrame;
  try {
    frame = parseFrame(line);
  } catch (e) {
    return hub.error(s, (e as ChatError).code, (e as ChatError).message);
  }
  // A windowed frame (a file chunk or its ack) is free while it moves its stream; its handler
  // charges it otherwise (HandlerCtx.meter).
  const entry = hub.registry.handlers.get(frame.type);
  if (!entry?.spec.windowed && refused(hub, s, frame.id)) return;
  const pipelined = entry?.pipelined === true;
  // A frame that is not pipelined waits until every pipelined one before it was answered.
  if (s.pipeline.last && !pipelined) return s.pipeline.last.then(() => route(hub, s, frame, false));
  return route(hub, s, frame, pipelined);
}

/** Takes a token from the session's frame budget; when empty, answers RATE_LIMITED with the
 *  time to wait and the frame is dropped (the refusal counts as a bad frame). */
function refused(hub: Hub, s: ServerSession, re?: string): boolean {
  const over = hub.guard.spend(s);
  if (over) hub.error(s, over.code, over.message, re, over.extra);
  return over !== undefined;
}

/** Frames one connection may have waiting for their answers while it reads on: 64 one-line
 *  messages span a few log commits, and bound what a sender can make the server hold. */
const PIPELINE_DEPTH = 64;

function route(hub: Hub, s: ServerSession, frame: RawFrame, pipelined: boolean) {
  const out = dispatch(hub, s, frame);
  // A pipelined frame answered at once (a refusal, a repeated txn) still waits its turn.
  if (!(out instanceof Promise) && !(pipelined && s.pipeline.last)) {
    return answer(hub, s, frame, out);
  }
  if (!pipelined) return (out as Promise<Outcome>).then((o) => answer(hub, s, frame, o));
  // Answered after the one before it; the read loop goes on unless too many are waiting.
  const before = s.pipeline.last;
  s.pipeline.depth++;
  const done: Promise<void> = Promise.all([before, out])
    .then(([, o]) => answer(hub, s, frame, o))
    .catch((e) => hub.log.error(`answering ${frame.type}: ${e}`))
    .finally(() => {
      s.pipeline.depth--;
      if (s.pipeline.last === done) s.pipeline.last = undefined;
    });
  s.pipeline.last = done;
  if (s.pipeline.depth >= PIPELINE_DEPTH) return done;
}

function answer(hub: Hub, s: ServerSession, frame: RawFrame, out: Outcome) {
  if (!out.ok) hub.error(s, out.code, out.message, frame.id, out.extra);
  else if (frame.id !== undefined) hub.send(s, { ...out.result, type: "ack", re: frame.id });
  return afterLine(hub, s);
}

function afterLine(hub: Hub, s: ServerSession): Promise<void> | void {
  if (s.quitting) return hub.closeSession(s, "quit");
}
