/** The polls plugin's limits. */

/** Options of one poll, at most: a question with more choices than a screen shows is a form. */
export const MAX_OPTIONS = 12;
/** Longest question and option, in characters. */
export const MAX_QUESTION = 300;
export const MAX_OPTION = 100;
/** Polls open at once, server-wide: each keeps its voters in memory until it closes. */
export const MAX_OPEN_POLLS = 100;
/** The longest a poll may stay open by itself (--closes), in seconds: a week. */
export const MAX_CLOSES_IN_S = 7 * 24 * 3600;
/** Live results go out at most this often per poll: 500 votes in a second are one frame to
 *  each member, not 500. */
export const RESULTS_EVERY_MS = 1000;
/** Closed polls shown to a voter at login as missed while away, at most: the newest. More is
 *  a backlog to read with /polls, not a burst of lines (or frames past the send queue). */
export const MISSED_SHOWN = 50;
