/**
 * hands: raise a hand for the staff, as in a lecture hall or a lab. Wire syntax:
 *
 *   hands.raise {topic?}      -> ack {position}            raise (again: the topic changes,
 *                                                            the place in line does not)
 *   hands.lower {name?}       -> ack {name}                your own hand, or (staff) anyone's
 *                                                            | HAND_NOT_RAISED | STAFF_ONLY
 *   hands.list {}             -> ack {hands: [{name, topic?, ts, position}]}
 *                                                            staff: every hand; others: their own
 *   hands.raised {name, topic?, ts, position}   pushed to staff online
 *   hands.lowered {name, by}                    pushed to staff online and to the hand's owner
 *   hands.waiting {count}                       pushed to staff at login when hands are up
 */
import { ChatError } from "../../protocol/errors.ts";
import { field, message, type RawFrame } from "../../protocol/spec.ts";
import { MAX_TOPIC_LENGTH } from "./options.ts";

export interface Hand {
  name: string;
  topic?: string;
  /** When it was raised, ms since the epoch. */
  ts: number;
  /** 1 for the first in line. */
  position: number;
}

function hand(f: RawFrame): Hand {
  return {
    name: field.text(f, "name", { min: 1 }),
    topic: field.optional(f, "topic", () => field.text(f, "topic")),
    ts: field.number(f, "ts"),
    position: field.number(f, "position"),
  };
}

export const HandsRaise = message("hands.raise", (f) => ({
  topic: field.optional(f, "topic", () => field.text(f, "topic", { max: MAX_TOPIC_LENGTH })),
}), { ack: (f) => ({ position: field.number(f, "position") }) });

export const HandsLower = message("hands.lower", (f) => ({
  name: field.optional(f, "name", () => field.text(f, "name", { min: 1 })),
}), { ack: (f) => ({ name: field.text(f, "name") }) });

export const HandsList = message("hands.list", () => ({}), {
  ack: (f) => {
    const list = f.hands;
    if (!Array.isArray(list)) throw new ChatError("BAD_FRAME", 'field "hands" must be an array');
    return { hands: list.map((h) => hand(h as RawFrame)) };
  },
});

export const HandsRaised = message("hands.raised", hand);

export const HandsLowered = message("hands.lowered", (f) => ({
  name: field.text(f, "name", { min: 1 }),
  by: field.text(f, "by", { min: 1 }),
}));

export const HandsWaiting = message("hands.waiting", (f) => ({ count: field.number(f, "count") }));

/** How a hand reads in a list: `2. Bob (since 2026-12-06 10:15): hw3 q2`. */
export function handLine(h: Hand, time: (ms: number) => string): string {
  return `${h.position}. ${h.name} (since ${time(h.ts)})${h.topic ? `: ${h.topic}` : ""}`;
}
