/** The dm plugin's error codes (Plugin.errors). */
export const DM_ERRORS = {
  USER_OFFLINE: "the user is not online and this server stores no messages (no offline plugin)",
} as const;
