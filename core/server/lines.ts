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
import { parseBinaryFrame, parseFrame } from "../../protocol/core.ts";
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

/** Handles one binary frame (framing.ts); the splitter passes them only on a JSON session. */
export function handleBinary(hub: Hub, s: ServerSession, bytes: Uint8Array): Promise<void> | void {
  let frame: RawFrame;
  try {
    frame = parseBinaryFrame(bytes);
  } catch (e) {
    return hub.error(s, (e as ChatError).code, (e as ChatError).message);
  }
  return jsonFrame(hub, s, frame);
}

function jsonLine(hub: Hub, s: ServerSession, line: string): Promise<void> | void {
  let frame: RawFrame;
  try {
    frame = parseFrame(line);
  } catch (e) {
    return hub.error(s, (e as ChatError).code, (e as ChatError).message);
  }
  return jsonFrame(hub, s, frame);
}

function jsonFrame(hub: Hub, s: ServerSession, frame: RawFrame): Promise<void> | void {
  // A windowed frame (a file chunk or its ack) is free while it moves its stream; its handler
  // charges it otherwise (HandlerCtx.meter).
  const entry = hub.registry.handlers.get(frame.type);
  if (!entry?.spec.windowed && refused(hub, s, frame.id)) return;
  const pipelined = entry?.pipelined === true;
  // A frame that is not pipelined waits until every pipelined one before it was answered.
  const p = s.pipeline;
  if (p.waiting.length > 0 && !pipelined) {
    p.drained ??= Promise.withResolvers();
    return p.drained.promise.then(() => route(hub, s, frame, false));
  }
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
  const p = s.pipeline;
  if (!pipelined || (!(out instanceof Promise) && p.waiting.length === 0)) {
    if (!(out instanceof Promise)) return answer(hub, s, frame, out);
    return out.then((o) => answer(hub, s, frame, o));
  }
  // Queued, and answered once every one before it is (a pipelined frame answered at once, a
  // refusal or a repeated txn, still waits its turn); the read loop goes on unless too many
  // are waiting. One queue per session, not a promise chain per frame: a DM's answer costs
  // one promise reaction here.
  const item = { frame, out: out instanceof Promise ? undefined : out };
  p.waiting.push(item);
  if (out instanceof Promise) {
    out.then((o) => {
      item.out = o;
      answerInOrder(hub, s);
    });
  }
  if (p.waiting.length >= PIPELINE_DEPTH) {
    p.room ??= Promise.withResolvers();
    return p.room.promise;
  }
}

/** Sends the answers at the head of the queue that are ready, in order; then wakes the read
 *  loop if there is room again, and a frame waiting for the queue to empty. */
function answerInOrder(hub: Hub, s: ServerSession) {
  const p = s.pipeline;
  while (p.waiting.length > 0 && p.waiting[0].out !== undefined) {
    const { frame, out } = p.waiting.shift()!;
    try {
      const closing = answer(hub, s, frame, out!);
      closing?.catch((e) => hub.log.error(`closing after ${frame.type}: ${e}`));
    } catch (e) {
      hub.log.error(`answering ${frame.type}: ${e}`);
    }
  }
  if (p.room && p.waiting.length < PIPELINE_DEPTH) {
    p.room.resolve();
    p.room = undefined;
  }
  if (p.drained && p.waiting.length === 0) {
    p.drained.resolve();
    p.drained = undefined;
  }
}

function answer(hub: Hub, s: ServerSession, frame: RawFrame, out: Outcome) {
  if (!out.ok) hub.error(s, out.code, out.message, frame.id, out.extra);
  else if (frame.id !== undefined) hub.send(s, { ...out.result, type: "ack", re: frame.id });
  return afterLine(hub, s);
}

function afterLine(hub: Hub, s: ServerSession): Promise<void> | void {
  if (s.quitting) return hub.closeSession(s, "quit");
}
