/** The questions plugin's error codes (Plugin.errors). */
export const QUESTIONS_ERRORS = {
  NO_SUCH_QUESTION: "there is no such question (/questions lists them with their numbers)",
  ALREADY_VOTED: "you upvoted that question already: one vote each",
  NOT_YOURS: "only staff or whoever asked may answer a question",
} as const;
