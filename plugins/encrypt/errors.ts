/** The encrypt plugin's error codes (Plugin.errors), all reported by the client: the server
 *  only relays public keys and never sees a message it could fail to open. */
export const ENCRYPT_ERRORS = {
  KEY_CHANGED: "client: a peer's end-to-end key changed; compare safety numbers before writing",
  NO_KEY: "client: the user has no end-to-end key yet",
  E2E_FAILED: "client: an end-to-end encrypted message could not be opened",
  KEY_MISSING:
    "client: the server has no end-to-end key for a peer whose key you pinned; nothing was sent unencrypted",
  NOT_ENCRYPTED:
    "client: a message or file from a peer whose key you pinned came without end-to-end encryption",
} as const;
