/** The hands plugin's limits: one option, one constant. */
import { count } from "../../protocol/settings.ts";

/** The most --max-hands takes: staff get the whole line in one ack (hands.list), and at 500
 *  hands with the longest names and topics that ack stays under half the default send queue
 *  (1 MiB), so a reader is never cut off for asking (a test checks the worst case). */
export const MAX_HANDS_CEILING = 500;

/** Hands raised at once, server-wide (`serve --max-hands <n>`): one more is TOO_MANY_HANDS.
 *  A lecture of a few hundred students never has more than a few dozen questions waiting;
 *  200 keeps a script raising hands for many accounts from growing the line without end. */
export const MAX_HANDS = count({
  flag: "--max-hands <n>",
  help: `hands raised at once, server-wide (1-${MAX_HANDS_CEILING})`,
  default: 200,
  min: 1,
  max: MAX_HANDS_CEILING,
});

/** Longest topic of a raised hand, in characters: a line saying what it is about ("hw3 q2",
 *  "can't log in to the lab machine"), not the question itself, which goes in a message. */
export const MAX_TOPIC_LENGTH = 200;
