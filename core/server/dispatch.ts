/**
 * Runs one decoded frame: finds its handler, checks the login state, decodes the frame with
 * its spec (the edge: handlers get typed, trusted values), runs the handler once per
 * transaction id, and turns whatever it returns or throws into an Outcome. Both line modes
 * (lines.ts for JSON, text_mode.ts for nc) come here; it never throws.
 */
import { txnOf } from "../../protocol/core.ts";
import { ChatError, type ErrorCode } from "../../protocol/errors.ts";
import { encodeFrame } from "../../protocol/framing.ts";
import type { MessageSpec, RawFrame } from "../../protocol/spec.ts";
import type { HandlerCtx, HandlerResult, Post, PostResult } from "../../plugins/types.ts";
import type { Hub } from "./hub.ts";
import type { ServerSession } from "./session.ts";
import { CORE } from "./core_frames.ts";
import { type Outcome, requestKey } from "./txn.ts";

export type { Outcome };

/** Routes one parsed frame to its handler and reports the outcome; never throws. */
export function dispatch(
  hub: Hub,
  s: ServerSession,
  frame: RawFrame,
): Outcome | Promise<Outcome> {
  const entry = hub.registry.handlers.get(frame.type);
  if (!entry) return fail("UNKNOWN_TYPE", `no enabled plugin handles "${frame.type}"`);
  if (!entry.preAuth && s.name === undefined) {
    return fail("NOT_LOGGED_IN", "log in first with session.login");
  }
  const caught = (e: unknown) => failure(hub, e, `handler for ${frame.type}`);
  let msg: unknown;
  try {
    msg = entry.spec.decode(frame);
  } catch (e) {
    return caught(e);
  }
  const run = (): Outcome | Promise<Outcome> => {
    try {
      const r = entry.handler(msg, s.ctx ??= handlerCtx(hub, s));
      return r instanceof Promise ? r.then(ok, caught) : ok(r);
    } catch (e) {
      return caught(e);
    }
  };
  // A request with a transaction id runs once per account and txn; a repeat (a client that
  // resent it after a drop) gets the recorded answer (core/server/txn.ts). The core's own frames
  // are left out: login and quit are safe to repeat, and passwd's answer is a secret.
  const txn = txnOf(frame);
  if (txn === undefined || s.name === undefined || entry.plugin === CORE) return run();
  return hub.txns.run(s.name, txn, requestKey(frame), run);
}

/** What a thrown error answers: a ChatError with a code this server declares, with its
 *  declared meaning if it has no message of its own; anything else is a bug (or a code no
 *  enabled plugin declares), logged whole here and answered only with a stable code. */
export function failure(hub: Hub, e: unknown, where: string): Outcome & { ok: false } {
  if (e instanceof ChatError && hub.errors.has(e.code)) {
    return fail(e.code, e.message || hub.errors.text(e.code), e.extra);
  }
  hub.log.error(`${where} failed: ${e instanceof Error ? e.stack : e}`);
  return fail("INTERNAL", "the server failed while handling this request");
}

function ok(result: HandlerResult): Outcome {
  return { ok: true, result: result ?? {} };
}

function fail(
  code: ErrorCode,
  message: string,
  extra?: Record<string, unknown>,
): Outcome & { ok: false } {
  return { ok: false, code, message, extra };
}

export function frameOf<T>(spec: MessageSpec<T>, body: T): Record<string, unknown> {
  return { type: spec.type, ...body as Record<string, unknown> };
}

/** The context handed to a session's handlers: one per session, made at its first frame, with
 *  its methods on the prototype (an idle connection of thousands should cost little). */
export function handlerCtx(hub: Hub, s: ServerSession): HandlerCtx {
  return new SessionCtx(hub, s);
}

class SessionCtx implements HandlerCtx {
  constructor(private readonly hub: Hub, readonly session: ServerSession) {}

  post<T>({ conv, to, spec, body }: Post<T>): PostResult | Promise<PostResult> {
    const { hub, session: s } = this;
    const frame = frameOf(spec, body) as RawFrame;
    const journal = hub.registry.journal?.log;
    if (journal) return journal.append({ conv, sender: s.name!, to, frame });
    // No log: push to whoever is online, encoded once; the rest did not get it.
    const result: PostResult = { sent: [], stored: [], offline: [] };
    let json: Uint8Array | undefined;
    for (const name of to) {
      const target = hub.sessions.get(name);
      // A receiver just cut off as too slow did not get it either.
      if (target && hub.send(target, frame, json ??= encodeFrame(frame))) {
        result.sent.push(target.name!);
      } else result.offline.push(name);
    }
    return result;
  }

  reply<T>(spec: MessageSpec<T>, body: T): void {
    this.hub.send(this.session, frameOf(spec, body));
  }

  fail(code: ErrorCode, message?: string): never {
    throw new ChatError(code, message);
  }

  meter(): void {
    const over = this.hub.guard.spend(this.session);
    if (over) throw over;
  }
}
