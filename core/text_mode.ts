/**
 * Plain-text mode for nc/telnet users on the same port: each line is matched against the
 * plugins' text commands, turned into an ordinary frame and routed like any other; replies
 * and pushed frames are rendered as readable lines by the plugins' renderers.
 */
import { ChatError, ERROR_CODES } from "../protocol/errors.ts";
import { encodeLine } from "../protocol/framing.ts";
import { type RawFrame, withoutBidiControls } from "../protocol/spec.ts";
import type { ChatServer } from "./server.ts";
import type { ServerSession } from "./session.ts";
import { dispatch } from "./router.ts";

const HELP = /^(?:server:|\/)help$/i;

/** Sends one line to a plain-text session. */
export function say(s: ServerSession, text: string) {
  if (!s.closed) s.outbox.push(encodeLine(text));
}

export function enterTextMode(server: ChatServer, s: ServerSession) {
  s.mode = "text";
  say(s, `Welcome to ${server.name} (plain-text mode). Type server:help for commands.`);
}

export async function handleTextLine(server: ChatServer, s: ServerSession, line: string) {
  const input = line.trim();
  if (HELP.test(input)) {
    say(s, "commands:");
    say(s, "  server:help  this list");
    for (const c of server.registry.textCommands) say(s, `  ${c.usage}  ${c.summary}`);
    return;
  }
  for (const cmd of server.registry.textCommands) {
    const m = input.match(cmd.match);
    if (!m) continue;
    let frame: RawFrame;
    try {
      frame = cmd.toFrame(m) as RawFrame;
    } catch (e) {
      if (!(e instanceof ChatError)) throw e;
      return server.error(s, e.code, e.message);
    }
    const out = await dispatch(server, s, frame);
    if (out.ok) say(s, cmd.ack ? cmd.ack({ type: "ack", re: "", ...out.result }) : "ok");
    else server.error(s, out.code, out.message, undefined, out.extra);
    return;
  }
  // Not a violation: people mistype (the frame budget still holds a script sending junk).
  server.error(s, "UNKNOWN_COMMAND", `${ERROR_CODES.UNKNOWN_COMMAND}; type server:help`);
}

/** One pushed frame as one readable line. Bidi overrides are removed here too: a message
 *  logged before text fields dropped them is replayed as it was stored. */
export function renderText(server: ChatServer, frame: Record<string, unknown>): string {
  const type = String(frame.type);
  const render = server.registry.renderers.get(type);
  if (render) return withoutBidiControls(replayPrefix(frame) + render(frame));
  if (type === "error") return `error ${frame.code}: ${frame.message}`;
  if (type === "session.closing") return `closing ${frame.code}: ${frame.message}`;
  const { type: _t, ...rest } = frame;
  return `${type} ${JSON.stringify(rest)}`;
}

/** A missed message is marked with its send time, as in the client (core/client_show.ts). */
function replayPrefix(frame: Record<string, unknown>): string {
  if (frame.replay === undefined || typeof frame.ts !== "number") return "";
  const when = new Date(frame.ts).toISOString().slice(0, 16).replace("T", " ");
  return frame.replay === "missed" ? `(while you were away) [${when} UTC] ` : `[${when} UTC] `;
}
