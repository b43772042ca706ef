/** The questions plugin's limits. */

/** Questions shown to a member at login as missed while away, at most: the newest. More is a
 *  backlog to read with /questions, not a burst of lines (or frames past the send queue). */
export const MISSED_SHOWN = 50;
