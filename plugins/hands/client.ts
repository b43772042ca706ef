/** The hands plugin's client half: /hand, /hands, /lower, and the staff's notices. */
import { type ClientApi, UsageError } from "../types.ts";
import {
  handLine,
  HandsList,
  HandsLower,
  HandsLowered,
  HandsRaise,
  HandsRaised,
  HandsWaiting,
} from "./protocol.ts";

export function handsClient(api: ClientApi) {
  api.command({
    name: "hand",
    aliases: ["raise"],
    usage: "/hand [topic] | /hand down",
    summary: "raise your hand for the staff, with what it is about; /hand down lowers it",
    async run(input, ctx) {
      if (input.args[0]?.toLowerCase() === "down" && input.args.length === 1) {
        await ctx.request(HandsLower, { name: undefined });
        return ctx.ui.notice("hand lowered");
      }
      const topic = input.tail(0).trim();
      const { position } = await ctx.request(HandsRaise, { topic: topic || undefined });
      ctx.ui.notice(`hand raised (${position} in line); /hand down lowers it`);
    },
  });

  api.command({
    name: "hands",
    usage: "/hands",
    summary: "the raised hands, in order (staff see all; you see your own place)",
    async run(input, ctx) {
      if (input.args.length > 0) throw new UsageError();
      const { hands } = await ctx.request(HandsList, {});
      if (hands.length === 0) return ctx.ui.notice("no hands raised");
      for (const h of hands) {
        ctx.ui.notice(handLine({ ...h, name: ctx.ui.style.name(h.name) }, ctx.ui.time));
      }
    },
  });

  api.command({
    name: "lower",
    usage: "/lower <user>",
    summary: "lower someone's hand, e.g. once answered (staff)",
    async run(input, ctx) {
      if (input.args.length !== 1) throw new UsageError();
      const { name } = await ctx.request(HandsLower, { name: input.args[0] });
      ctx.ui.notice(`lowered ${ctx.ui.style.name(name)}'s hand`);
    },
  });

  api.on(HandsRaised, (h, ui) => {
    const topic = h.topic ? `: ${h.topic}` : "";
    ui.notice(`${ui.style.name(h.name)} raised a hand (${h.position} in line)${topic}`);
  });
  api.on(HandsLowered, (m, ui, ctx) => {
    const whose = m.name.toLowerCase() === ctx.me.toLowerCase() ? "your" : `${m.name}'s`;
    ui.notice(`${ui.style.name(m.by)} lowered ${whose} hand`);
  });
  api.on(HandsWaiting, (m, ui) => {
    ui.notice(`${m.count} ${m.count === 1 ? "hand" : "hands"} raised; /hands lists them`);
  });
}
