import { dmConversation, type PostResult, type ServerApi } from "../types.ts";
import { DmMessage, DmSend, SEALED_PLACEHOLDER, TO_USER_LINE } from "./protocol.ts";
import { Contacts } from "./contacts.ts";

export function dmServer(api: ServerApi) {
  // Who has written to whom: people in a conversation are related (presence tells them).
  const contacts = new Contacts(api.db, api.log);
  api.onStartup(() => contacts.load());
  api.relations((account) => contacts.of(account));

  // dm.send {receiver, text | sealed} -> ack {receiver, ts, seq?, status: "sent" | "stored"}
  //   | NO_SUCH_USER | USER_OFFLINE | TEXT_TOO_LONG
  // Synchronous when no journal logs messages: no promise per message on that hot path. With
  // one, everything before ctx.post is synchronous, so it may be pipelined (see ServerApi.on).
  api.on(DmSend, ({ receiver, text, sealed }, ctx) => {
    // A sealed body is bounded by the frame size limit; its text length is not ours to see.
    if (text !== undefined && text.length > api.limits.maxTextLength) {
      ctx.fail("TEXT_TOO_LONG", `a message has at most ${api.limits.maxTextLength} characters`);
    }
    const sender = ctx.session.name!;
    const post = (to: string) => {
      const ts = Date.now();
      const result = (r: PostResult) => {
        if (r.offline.length) {
          ctx.fail("USER_OFFLINE", `${to} is not online and this server keeps no messages`);
        }
        // Only a message that went somewhere relates its two people (presence tells them).
        contacts.touch(sender, to);
        return { receiver: to, ts, seq: r.seq, status: r.sent.length ? "sent" : "stored" };
      };
      const r = ctx.post({
        conv: dmConversation(sender, to),
        to: [to],
        spec: DmMessage,
        body: { sender, receiver: to, ...(sealed ? { sealed } : { text }), ts },
      });
      return r instanceof Promise ? r.then(result) : result(r);
    };
    // Online, or an account that gets it later; a name that never existed is an error.
    const to = api.sessions.get(receiver)?.name ?? api.accounts.canonical(receiver);
    if (!to) return ctx.fail("NO_SUCH_USER", `there is no user named "${receiver}"`);
    return post(to);
  }, { pipelined: true });

  api.text.command({
    usage: "server:msg <user> <message>",
    summary: "send a direct message (also /msg, /private)",
    match: /^(?:server:|\/)(?:msg|private|dm)\s+(\S+)\s+(\S.*)$/i,
    toFrame: (m) => ({ type: DmSend.type, receiver: m[1], text: m[2] }),
    ack: ackText,
  });
  api.text.command({
    usage: "<user>:<message>",
    summary: "send a direct message",
    match: TO_USER_LINE,
    toFrame: (m) => ({ type: DmSend.type, receiver: m[1], text: m[2] }),
    ack: ackText,
  });
  api.text.render(DmMessage, (m) => `${api.text.name(m.sender)}: ${m.text ?? SEALED_PLACEHOLDER}`);
}

/** The plain-text reply to dm.send's ack. */
function ackText(r: Record<string, unknown>): string {
  if (r.status === "stored") return `${r.receiver} is offline: stored, delivered when they connect`;
  return `sent to ${r.receiver}`;
}
