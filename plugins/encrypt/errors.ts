/** The encrypt plugin's error codes (Plugin.errors), all reported by the client: the server
 *  only relays public keys and never sees a message it could fail to open. */
import { E2E_ERRORS } from "./protocol.ts";

export const ENCRYPT_ERRORS = {
  ...E2E_ERRORS,
  KEY_CHANGED: "client: a peer's end-to-end key changed; compare safety numbers before writing",
  NO_KEY: "client: the user has no end-to-end key yet",
  KEY_MISSING:
    "client: the server has no end-to-end key for a peer whose key you pinned; nothing was sent unencrypted",
} as const;
