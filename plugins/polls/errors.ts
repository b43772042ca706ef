/** The polls plugin's error codes (Plugin.errors). */
export const POLLS_ERRORS = {
  NO_SUCH_POLL: "there is no such poll (its number is shown when it opens, and by /polls)",
  POLL_CLOSED: "that poll is closed: its results are final",
  BAD_VOTE: "a vote names options of the poll by number: one, or several in a --multi poll",
  NOT_A_VOTER: "only the room's members when the poll opened vote in it",
  NOT_POLL_OWNER: "only whoever opened the poll, or staff, may close it",
  TOO_MANY_POLLS: "as many polls are open as the server allows; close one first",
} as const;
