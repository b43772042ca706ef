/** The groups client's pins: /pin, /unpin, /pins, and what a new member is shown of a room's
 *  past (groups.welcome, after the posts it sent as history). */
import { type ClientApi, type Ui, UsageError } from "../types.ts";
import {
  GroupPin,
  GroupPinned,
  GroupPins,
  GroupUnpin,
  GroupUnpinned,
  GroupWelcome,
  type Pin,
} from "./protocol.ts";
import { pastText, pinLine, unpinnedText } from "./lines.ts";

const PIN_USAGE = "/pin <room> [post]";
const UNPIN_USAGE = "/unpin <room> <post>";
const POST_ID = /^\d{1,15}$/;

function showPins(ui: Ui, room: string, pins: readonly Pin[]) {
  if (pins.length === 0) return ui.notice(`no pinned posts in #${room}`);
  ui.notice(`pinned in #${room} (${pins.length}):`);
  for (const p of pins) ui.notice(`  ${pinLine(p)}  ${ui.style.dim(`(pinned by ${p.by})`)}`);
}

export function groupsPinsClient(api: ClientApi) {
  api.command({
    name: "pin",
    usage: PIN_USAGE,
    summary: "pin a room's latest post, or post n (the number history lines show); " +
      "owners and admins",
    async run(input, ctx) {
      const [room, post, ...rest] = input.args;
      if (!room || rest.length || (post !== undefined && !POST_ID.test(post))) {
        throw new UsageError();
      }
      const seq = post === undefined ? {} : { seq: Number(post) };
      const ack = await ctx.request(GroupPin, { room, ...seq });
      ctx.ui.notice(`pinned in #${ack.room}: ${pinLine(ack.pin)}`);
    },
  });
  api.command({
    name: "unpin",
    usage: UNPIN_USAGE,
    summary: "unpin post n of a room (/pins shows the numbers)",
    async run(input, ctx) {
      const [room, post] = input.args;
      if (input.args.length !== 2 || !POST_ID.test(post)) {
        throw new UsageError();
      }
      const ack = await ctx.request(GroupUnpin, { room, seq: Number(post) });
      ctx.ui.notice(`unpinned post ${ack.seq} in #${ack.room}`);
    },
  });
  api.command({
    name: "pins",
    usage: "/pins <room>",
    summary: "list a room's pinned posts",
    async run(input, ctx) {
      if (input.args.length !== 1) throw new UsageError();
      const ack = await ctx.request(GroupPins, { room: input.args[0] });
      showPins(ctx.ui, ack.room, ack.pins);
    },
  });
  api.on(
    GroupPinned,
    (m, ui) => ui.notice(`${ui.style.name(m.pin.by)} pinned in #${m.room}: ${pinLine(m.pin)}`),
  );
  api.on(GroupUnpinned, (m, ui) => ui.notice(unpinnedText({ ...m, by: ui.style.name(m.by) })));
  api.on(GroupWelcome, (m, ui) => {
    if (m.history > 0) ui.notice(pastText(m));
    if (m.pins.length) showPins(ui, m.room, m.pins);
  });
}
