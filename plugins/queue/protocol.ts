/**
 * queue: office hours. Staff open and close the queue; students join it with a topic, see
 * their place and the estimated wait, and leave; staff take the first in line (/next: the
 * student is told who is ready for them) and end that (/done). Wire:
 *
 *   queue.open {room?}   -> ack {}                       staff; room: where it is held
 *   queue.close {}       -> ack {left}                   staff; everyone waiting is told
 *   queue.join {topic?}  -> ack {position, waitMs?}      again: the topic changes, not the place
 *                           | QUEUE_CLOSED
 *   queue.leave {}       -> ack {} | NOT_QUEUED
 *   queue.status {}      -> ack {open, room?, waiting, position?, waitMs?}
 *   queue.next {}        -> ack {name, topic?, waitedMs} | QUEUE_EMPTY        staff
 *   queue.done {}        -> ack {name, minutes} | NOT_HELPING                staff
 *   queue.stats {}       -> ack {served, waiting, medianWaitMs?, maxWaitMs?}   staff, today (UTC)
 *   queue.ready {by, room?}            to the student /next took
 *   queue.moved {position, waitMs?}    to a student whose place changed
 *   queue.closed {}                    to everyone waiting when staff close it
 *   queue.waiting {count}              to staff online when someone joins, and at login
 */
import { field, message } from "../../protocol/spec.ts";

/** Longest topic, in characters: what it is about, not the question itself. */
export const MAX_TOPIC = 200;

const optionalWait = (f: Record<string, unknown> & { type: string }) =>
  field.optionalNumber(f, "waitMs");

export const QueueOpen = message("queue.open", (f) => ({
  room: field.optional(f, "room", () => field.text(f, "room", { min: 1, max: 64 })),
}));
export const QueueClose = message("queue.close", () => ({}), {
  ack: (f) => ({ left: field.number(f, "left") }),
});
export const QueueJoin = message("queue.join", (f) => ({
  topic: field.optional(f, "topic", () => field.text(f, "topic", { max: MAX_TOPIC })),
}), { ack: (f) => ({ position: field.number(f, "position"), waitMs: optionalWait(f) }) });
export const QueueLeave = message("queue.leave", () => ({}));
export const QueueStatus = message("queue.status", () => ({}), {
  ack: (f) => ({
    open: field.boolean(f, "open"),
    room: field.optionalString(f, "room"),
    waiting: field.number(f, "waiting"),
    position: field.optionalNumber(f, "position"),
    waitMs: optionalWait(f),
  }),
});
export const QueueNext = message("queue.next", () => ({}), {
  ack: (f) => ({
    name: field.text(f, "name"),
    topic: field.optionalString(f, "topic"),
    waitedMs: field.number(f, "waitedMs"),
  }),
});
export const QueueDone = message("queue.done", () => ({}), {
  ack: (f) => ({ name: field.text(f, "name"), minutes: field.number(f, "minutes") }),
});
export const QueueStats = message("queue.stats", () => ({}), {
  ack: (f) => ({
    served: field.number(f, "served"),
    waiting: field.number(f, "waiting"),
    medianWaitMs: field.optionalNumber(f, "medianWaitMs"),
    maxWaitMs: field.optionalNumber(f, "maxWaitMs"),
  }),
});
export const QueueReady = message("queue.ready", (f) => ({
  by: field.text(f, "by"),
  room: field.optionalString(f, "room"),
}));
export const QueueMoved = message("queue.moved", (f) => ({
  position: field.number(f, "position"),
  waitMs: optionalWait(f),
}));
export const QueueClosed = message("queue.closed", () => ({}));
export const QueueWaiting = message("queue.waiting", (f) => ({ count: field.number(f, "count") }));

/** `about 12 minutes` / `unknown yet`: an estimated wait as people read it. */
export function waitText(ms: number | undefined): string {
  if (ms === undefined) return "wait unknown yet";
  const min = Math.max(1, Math.round(ms / 60_000));
  return `about ${min} minute${min === 1 ? "" : "s"}`;
}
