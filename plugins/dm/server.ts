import type { Delivery, ServerApi } from "../types.ts";
import { DmMessage, DmSend, SEALED_PLACEHOLDER, TO_USER_LINE } from "./protocol.ts";

export function dmServer(api: ServerApi) {
  // dm.send {receiver, text} -> ack {receiver, ts, status} | NO_SUCH_USER | TEXT_TOO_LONG
  // Synchronous when the receiver is online: no promise per message on the hot path.
  api.on(DmSend, ({ receiver, text, sealed }, ctx) => {
    // A sealed body is bounded by the frame size limit; its text length is not ours to see.
    if (text !== undefined && text.length > api.limits.maxTextLength) {
      ctx.fail("TEXT_TOO_LONG", `a message has at most ${api.limits.maxTextLength} characters`);
    }
    const to = api.sessions.get(receiver)?.name ?? receiver;
    const ts = Date.now();
    const result = (status: Delivery) => {
      if (status === "offline") ctx.fail("NO_SUCH_USER", `no user named "${receiver}" is online`);
      return { receiver: to, ts, status };
    };
    const status = ctx.deliver(to, DmMessage, {
      sender: ctx.session.name!,
      receiver: to,
      ...(sealed ? { sealed } : { text }),
      ts,
    });
    return status === "sent" ? result(status) : status.then(result);
  });

  api.text.command({
    usage: "server:msg <user> <message>",
    summary: "send a direct message (also /msg, /private)",
    match: /^(?:server:|\/)(?:msg|private|dm)\s+(\S+)\s+(\S.*)$/i,
    toFrame: (m) => ({ type: DmSend.type, receiver: m[1], text: m[2] }),
    ack: (r) => `sent to ${r.receiver}`,
  });
  api.text.command({
    usage: "<user>:<message>",
    summary: "send a direct message",
    match: TO_USER_LINE,
    toFrame: (m) => ({ type: DmSend.type, receiver: m[1], text: m[2] }),
    ack: (r) => `sent to ${r.receiver}`,
  });
  api.text.render(DmMessage, (m) => `${m.sender}: ${m.text ?? SEALED_PLACEHOLDER}`);
}
