/**
 * polls: a question with options, voted on by a room's members, with live results. Wire:
 *
 *   polls.create {room, question, options[], anonymous?, multi?, closesIn?}
 *                                  -> ack {poll} | NO_SUCH_ROOM | NOT_A_MEMBER | ANNOUNCE_ONLY
 *                                     | BAD_FRAME | TOO_MANY_POLLS
 *   polls.vote {poll, choices[]}   -> ack {poll} | NO_SUCH_POLL | POLL_CLOSED | BAD_VOTE
 *                                     | NOT_A_VOTER   (again: the vote changes)
 *   polls.close {poll}             -> ack {poll} | NO_SUCH_POLL | POLL_CLOSED | NOT_POLL_OWNER
 *   polls.list {room}              -> ack {polls: [Poll]}   the room's polls, newest first
 *   polls.opened Poll              pushed to the room's members online (and at login, open ones)
 *   polls.results Poll             pushed as votes come (at most once a second per poll) and
 *                                  when it closes (closed: true)
 *
 * Poll = {poll, room, by, question, options[], anonymous, multi, closesAt?, closed, counts[],
 * voters, votes?}: `counts[i]` votes for option i (from 0), `voters` how many voted; `votes`
 * ({name, choices[]}) only in a poll that is not anonymous. An anonymous poll's results never
 * name a voter, to anyone, staff included.
 */
import { field, message, type RawFrame } from "../../protocol/spec.ts";
import { ChatError } from "../../protocol/errors.ts";
import { MAX_CLOSES_IN_S, MAX_OPTION, MAX_OPTIONS, MAX_QUESTION } from "./options.ts";

export interface Poll {
  poll: number;
  room: string;
  by: string;
  question: string;
  options: string[];
  anonymous: boolean;
  multi: boolean;
  closesAt?: number;
  closed: boolean;
  counts: number[];
  voters: number;
  votes?: Array<{ name: string; choices: number[] }>;
}

const bad = (key: string, why: string) => new ChatError("BAD_FRAME", `field "${key}" ${why}`);

function whole(f: RawFrame, key: string, max: number): number {
  const n = field.number(f, key);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw bad(key, `must be 0 to ${max}`);
  return n;
}

export function pollOf(f: RawFrame): Poll {
  const votes = f.votes;
  return {
    poll: whole(f, "poll", Number.MAX_SAFE_INTEGER),
    room: field.text(f, "room"),
    by: field.text(f, "by"),
    question: field.text(f, "question"),
    options: field.textArray(f, "options"),
    anonymous: field.boolean(f, "anonymous"),
    multi: field.boolean(f, "multi"),
    closesAt: field.optionalNumber(f, "closesAt"),
    closed: field.boolean(f, "closed"),
    counts: (Array.isArray(f.counts) ? f.counts : []).map(Number),
    voters: field.number(f, "voters"),
    votes: Array.isArray(votes)
      ? votes.map((v) => ({
        name: field.text(v as RawFrame, "name"),
        choices: ((v as RawFrame).choices as number[]).map(Number),
      }))
      : undefined,
  };
}

/** A room named with or without its `#`; absent: the class room. */
const roomOf = (f: RawFrame) =>
  field.optional(f, "room", () => field.string(f, "room", { min: 1 }).replace(/^[#@]/, ""));

export const PollsCreate = message("polls.create", (f) => {
  const options = field.textArray(f, "options").map((o) => o.trim()).filter((o) => o !== "");
  if (options.length < 2 || options.length > MAX_OPTIONS) {
    throw bad("options", `must hold 2 to ${MAX_OPTIONS} options`);
  }
  if (options.some((o) => o.length > MAX_OPTION)) {
    throw bad("options", `may hold options of at most ${MAX_OPTION} characters`);
  }
  return {
    room: roomOf(f),
    question: field.text(f, "question", { min: 1, max: MAX_QUESTION }),
    options,
    anonymous: field.optional(f, "anonymous", () => field.boolean(f, "anonymous")) ?? false,
    multi: field.optional(f, "multi", () => field.boolean(f, "multi")) ?? false,
    closesIn: field.optional(f, "closesIn", () => whole(f, "closesIn", MAX_CLOSES_IN_S)),
  };
}, { ack: (f) => ({ poll: field.number(f, "poll") }) });

export const PollsVote = message("polls.vote", (f) => {
  const c = f.choices;
  if (!Array.isArray(c) || c.length === 0 || c.length > MAX_OPTIONS) {
    throw bad("choices", `must be 1 to ${MAX_OPTIONS} option numbers`);
  }
  return {
    poll: whole(f, "poll", Number.MAX_SAFE_INTEGER),
    choices: c.map((x) => {
      if (!Number.isSafeInteger(x) || x < 0 || x >= MAX_OPTIONS) {
        throw bad("choices", "must be option numbers, from 0");
      }
      return x as number;
    }),
  };
}, { ack: (f) => ({ poll: field.number(f, "poll") }) });

export const PollsClose = message(
  "polls.close",
  (f) => ({ poll: whole(f, "poll", Number.MAX_SAFE_INTEGER) }),
  { ack: (f) => ({ poll: field.number(f, "poll") }) },
);

export const PollsList = message("polls.list", (f) => ({ room: roomOf(f) }), {
  ack: (f) => {
    if (!Array.isArray(f.polls)) throw bad("polls", "must be an array");
    return { polls: f.polls.map((p) => pollOf(p as RawFrame)) };
  },
});

export const PollsOpened = message("polls.opened", pollOf);
export const PollsResults = message("polls.results", pollOf);

/** `poll 3 in #cs350 by Prof: Which lab slot? 1) Mon 4 (2)  2) Tue 9 (5) · 7 voted, closed` */
export function pollText(p: Poll, name: (n: string) => string = (n) => n): string {
  const options = p.options.map((o, i) => `${i + 1}) ${o} (${p.counts[i] ?? 0})`).join("  ");
  const kind = [p.anonymous ? "anonymous" : "", p.multi ? "several choices" : ""]
    .filter((x) => x).join(", ");
  const state = p.closed ? "closed" : "open";
  const who = p.votes?.length
    ? ` · ${
      p.votes.map((v) => `${name(v.name)}: ${v.choices.map((c) => c + 1).join(",")}`).join("; ")
    }`
    : "";
  return `poll ${p.poll} in #${p.room} by ${name(p.by)}${
    kind ? ` (${kind})` : ""
  }: ${p.question}  ` +
    `${options} · ${p.voters} voted, ${state}${who}`;
}
