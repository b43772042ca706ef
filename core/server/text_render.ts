/**
 * Frames as plain-text lines, for nc/telnet sessions (text_mode.ts reads their input): each
 * pushed frame becomes one readable line, by the renderer its plugin registered.
 */
import { encodeLine } from "../../protocol/framing.ts";
import { withoutBidiControls } from "../../protocol/spec.ts";
import type { Registry } from "./registry.ts";
import type { ServerSession } from "./session.ts";

/** Sends one line to a plain-text session. */
export function say(s: ServerSession, text: string) {
  if (!s.closed) s.outbox.push(encodeLine(text));
}

/** One pushed frame as one readable line. Bidi overrides are removed here too: a message
 *  logged before text fields dropped them is replayed as it was stored. */
export function renderText(registry: Registry, frame: Record<string, unknown>): string {
  const type = String(frame.type);
  const render = registry.renderers.get(type);
  if (render) return withoutBidiControls(replayPrefix(registry, frame) + render(frame));
  if (type === "error") return `error ${frame.code}: ${frame.message}`;
  if (type === "session.closing") return `closing ${frame.code}: ${frame.message}`;
  const { type: _t, ...rest } = frame;
  return `${type} ${JSON.stringify(rest)}`;
}

/** A replayed frame is marked as the journal's plugin says (ServerApi.text.replayed). */
function replayPrefix(registry: Registry, frame: Record<string, unknown>): string {
  const { replay, ts } = frame;
  // Plain text marks only a replay with its time (the log always stores one).
  if ((replay !== "missed" && replay !== "history") || typeof ts !== "number") return "";
  return registry.replayed?.fn({ replay, ts }) ?? "";
}
