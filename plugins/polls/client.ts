/** The polls plugin's client half: /poll, /vote, /polls, /close, and polls as they change. */
import { type ClientApi, UsageError } from "../types.ts";
import {
  PollsClose,
  PollsCreate,
  PollsList,
  PollsOpened,
  PollsResults,
  PollsVote,
  pollText,
} from "./protocol.ts";
import { parsePoll, roomArg } from "./syntax.ts";

export function pollsClient(api: ClientApi) {
  api.command({
    name: "poll",
    usage: '/poll [#room] "Question?" option | option | ... [--anonymous] [--multi] [--closes 10m]',
    summary: "open a poll in a room (the class room if none is named); anonymous: no one sees " +
      "who voted what",
    async run(input, ctx) {
      const room = roomArg(input.args, input.tail(1));
      const poll = parsePoll(input.tail(room ? 1 : 0));
      if (!poll) throw new UsageError();
      const { poll: id } = await ctx.request(PollsCreate, { room, closesIn: undefined, ...poll });
      ctx.ui.notice(`poll ${id} is open; /vote ${id} <option number>, /close ${id} ends it`);
    },
  });
  api.command({
    name: "vote",
    usage: "/vote <poll> <option> [option...]",
    summary: "vote by option number (several in a --multi poll); voting again changes it",
    async run(input, ctx) {
      const [poll, ...picked] = input.args.map(Number);
      if (!Number.isSafeInteger(poll) || picked.length === 0 || picked.some((n) => !(n >= 1))) {
        throw new UsageError();
      }
      await ctx.request(PollsVote, { poll, choices: picked.map((n) => n - 1) });
      ctx.ui.notice(`voted in poll ${poll}`);
    },
  });
  api.command({
    name: "polls",
    usage: "/polls [#room]",
    summary: "a room's polls (the class room's if none is named), open and closed, with results",
    async run(input, ctx) {
      if (input.args.length > 1) throw new UsageError();
      const { polls } = await ctx.request(PollsList, { room: input.args[0] });
      if (polls.length === 0) return ctx.ui.notice("no polls in that room");
      for (const p of polls) ctx.ui.notice(pollText(p, ctx.ui.style.name));
    },
  });
  api.command({
    name: "close",
    usage: "/close <poll>",
    summary: "close a poll you opened (staff: any); its results are final",
    async run(input, ctx) {
      const poll = Number(input.args[0]);
      if (input.args.length !== 1 || !Number.isSafeInteger(poll)) throw new UsageError();
      await ctx.request(PollsClose, { poll });
      ctx.ui.notice(`poll ${poll} is closed`);
    },
  });
  api.on(PollsOpened, (p, ui) => ui.notice(`new ${pollText(p, ui.style.name)}`));
  api.on(PollsResults, (p, ui) => ui.notice(pollText(p, ui.style.name)));
}
