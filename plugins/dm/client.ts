import { type ClientApi, type ClientCtx, UsageError } from "../types.ts";
import { DmMessage, DmSend, SEALED_PLACEHOLDER, TO_USER_LINE } from "./protocol.ts";

async function send(ctx: ClientCtx, receiver: string, text: string) {
  const ack = await ctx.request(DmSend, { receiver, text });
  const { dim, name } = ctx.ui.style;
  ctx.ui.line(`${dim("->")} ${name(ack.receiver)}: ${text}`);
  if (ack.status === "stored") {
    ctx.ui.notice(`${name(ack.receiver)} is offline: stored, delivered when they connect`);
  }
}

export function dmClient(api: ClientApi) {
  api.command({
    name: "msg",
    aliases: ["private", "dm", "m"],
    usage: "/msg <user> <text>",
    summary: "send a direct message (or type  <user>: <text>)",
    run(input, ctx) {
      const text = input.tail(1);
      if (input.args.length < 2 || !text) throw new UsageError();
      return send(ctx, input.args[0], text);
    },
  });

  // `Bob: hello` is a direct message to Bob, as in the course assignment.
  api.line({
    usage: "<user>: <text>",
    summary: "a direct message: the name, a colon, then the message (Bob: hi there)",
    match: TO_USER_LINE,
    run: (m, ctx) => send(ctx, m[1], m[2]),
  });

  api.on(
    DmMessage,
    (m, ui) => ui.line(`${ui.style.name(m.sender)}: ${m.text ?? SEALED_PLACEHOLDER}`),
  );
}
