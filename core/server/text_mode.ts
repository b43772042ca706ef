/**
 * Plain-text mode for nc/telnet users on the same port: each line is matched against the
 * plugins' text commands, turned into an ordinary frame and routed like any other; replies
 * and pushed frames are rendered as readable lines by the plugins' renderers.
 */
import { CORE_ERRORS } from "../../protocol/errors.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import type { Hub } from "./hub.ts";
import type { ServerSession } from "./session.ts";
import { dispatch, failure } from "./dispatch.ts";
import { say } from "./text_render.ts";

const HELP = /^(?:server:|\/)help$/i;

export function enterTextMode(hub: Hub, s: ServerSession) {
  s.mode = "text";
  say(s, `Welcome to ${hub.name} (plain-text mode). Type server:help for commands.`);
}

export async function handleTextLine(hub: Hub, s: ServerSession, line: string) {
  const input = line.trim();
  if (HELP.test(input)) {
    say(s, "commands:");
    say(s, "  server:help  this list");
    for (const c of hub.registry.textCommands) say(s, `  ${c.usage}  ${c.summary}`);
    return;
  }
  for (const cmd of hub.registry.textCommands) {
    const m = input.match(cmd.match);
    if (!m) continue;
    let frame: RawFrame;
    try {
      frame = cmd.toFrame(m) as RawFrame;
    } catch (e) {
      const out = failure(hub, e, `plain-text command ${cmd.match}`);
      return hub.error(s, out.code, out.message, undefined, out.extra);
    }
    const out = await dispatch(hub, s, frame);
    if (out.ok) say(s, cmd.ack ? cmd.ack({ type: "ack", re: "", ...out.result }) : "ok");
    else hub.error(s, out.code, out.message, undefined, out.extra);
    return;
  }
  // Not a violation: people mistype (the frame budget still holds a script sending junk).
  hub.error(s, "UNKNOWN_COMMAND", `${CORE_ERRORS.UNKNOWN_COMMAND}; type server:help`);
}
