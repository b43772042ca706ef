/** The polls plugin's plain-text (nc) commands and how its pushes read there. */
import type { ServerApi } from "../types.ts";
import {
  PollsClose,
  PollsCreate,
  PollsList,
  PollsOpened,
  PollsResults,
  PollsVote,
  pollText,
} from "./protocol.ts";
import { parsePoll } from "./syntax.ts";

export function pollsText(api: ServerApi) {
  api.text.command({
    usage: 'server:poll [#room] "Question?" option | option [--anonymous] [--multi] [--closes 10m]',
    summary: "open a poll in a room (the class room if none is named)",
    // A room is `#room`, or a bare name before the quoted question (polls/syntax.ts roomArg).
    match: /^(?:server:|\/)poll\s+(?:(#\S+|[^\s"]+(?=\s+"))\s+)?(.+)$/i,
    toFrame: (m) => ({ type: PollsCreate.type, room: m[1], ...parsePoll(m[2]) }),
    ack: (r) => `poll ${r.poll} is open; server:vote ${r.poll} <option number>`,
  });
  api.text.command({
    usage: "server:vote <poll> <option> [option...]",
    summary: "vote in a poll by option number (again: the vote changes)",
    match: /^(?:server:|\/)vote\s+(\d+)\s+([\d\s,]+)$/i,
    toFrame: (m) => ({
      type: PollsVote.type,
      poll: Number(m[1]),
      choices: m[2].split(/[\s,]+/).filter((x) => x).map((x) => Number(x) - 1),
    }),
    ack: (r) => `voted in poll ${r.poll}`,
  });
  api.text.command({
    usage: "server:polls [#room]",
    summary: "a room's polls and their results (the class room's if none is named)",
    match: /^(?:server:|\/)polls(?:\s+([#@]?\S+))?$/i,
    toFrame: (m) => ({ type: PollsList.type, room: m[1] }),
    ack: (r) => {
      const polls = PollsList.decodeAck(r).polls;
      return polls.length === 0
        ? "no polls in that room"
        : polls.map((p) => pollText(p, api.text.name)).join("\n");
    },
  });
  api.text.command({
    usage: "server:close <poll>",
    summary: "close a poll you opened (staff: any)",
    match: /^(?:server:|\/)close\s+(\d+)$/i,
    toFrame: (m) => ({ type: PollsClose.type, poll: Number(m[1]) }),
    ack: (r) => `poll ${r.poll} is closed`,
  });
  api.text.render(PollsOpened, (p) => `* new ${pollText(p, api.text.name)}`);
  api.text.render(PollsResults, (p) => `* ${pollText(p, api.text.name)}`);
}
