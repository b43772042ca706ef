/** The hands plugin's error codes (Plugin.errors). */
export const HANDS_ERRORS = {
  HAND_NOT_RAISED: "that hand is not raised (it was lowered already, or never raised)",
  TOO_MANY_HANDS: "as many hands are raised as the server allows (--max-hands); try again soon",
} as const;
