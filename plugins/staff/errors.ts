/** The staff plugin's error codes (Plugin.errors). */
export const STAFF_ERRORS = {
  STAFF_ONLY: "only staff (server admins and the people they name) may do that",
  ADMIN_ONLY: "only a server admin may name or remove staff",
  ALREADY_STAFF: "that account is staff already",
  NOT_STAFF: "that account is not staff",
  ALWAYS_STAFF: "server admins (serve --admin, classchat admin add-admin) are always staff",
} as const;
