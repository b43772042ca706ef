/** The hands plugin's limits: one option, one constant. */
import { count } from "../../protocol/settings.ts";

/** Hands raised at once, server-wide (`serve --max-hands <n>`): one more is TOO_MANY_HANDS.
 *  A lecture of a few hundred students never has more than a few dozen questions waiting;
 *  1,000 keeps a script raising hands for many accounts from growing the list (and every
 *  staff member's /hands) without end. */
export const MAX_HANDS = count({
  flag: "--max-hands <n>",
  help: "hands raised at once, server-wide (1-100000)",
  default: 1000,
  min: 1,
  max: 100_000,
});

/** Longest topic of a raised hand, in characters: a line saying what it is about ("hw3 q2",
 *  "can't log in to the lab machine"), not the question itself, which goes in a message. */
export const MAX_TOPIC_LENGTH = 200;
