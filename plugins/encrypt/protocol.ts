/** Key frames of the encrypt plugin: the server stores and serves public keys, nothing else. */
import { field, message } from "../../protocol/spec.ts";
import { ChatError } from "../../protocol/errors.ts";
import { isPublicKey } from "./crypto.ts";

function publicKey(v: unknown, key: string): string {
  if (!isPublicKey(v)) {
    throw new ChatError("BAD_FRAME", `field "${key}" must be a base64url X25519 public key`);
  }
  return v;
}

/** encrypt.publish {key} -> ack {replaced}: this account's identity public key. `replaced`
 *  says the server held a different one (another device, or a reinstall). */
export const EncryptPublish = message("encrypt.publish", (f) => ({
  key: publicKey(f.key, "key"),
}), { ack: (f) => ({ replaced: field.boolean(f, "replaced") }) });

/** encrypt.key {name} -> ack {name, key} | NO_SUCH_USER: a user's public key; key is null if
 *  they have none. */
export const EncryptKey = message("encrypt.key", (f) => ({ name: field.string(f, "name") }), {
  ack: (f) => ({
    name: field.text(f, "name"),
    key: f.key === null ? null : publicKey(f.key, "key"),
  }),
});

/** encrypt.changed {name, key}: pushed to everyone online when a user publishes a new key, so
 *  nobody keeps sealing to the old one. */
export const EncryptChanged = message("encrypt.changed", (f) => ({
  name: field.text(f, "name"),
  key: publicKey(f.key, "key"),
}));

/** Codes that both encrypt (messages) and sendfile (files) report, with one meaning: each
 *  declares them (Plugin.errors), so either works without the other. */
export const E2E_ERRORS = {
  E2E_FAILED: "client: an end-to-end encrypted message or file could not be opened",
  NOT_ENCRYPTED:
    "client: a message or file from a peer whose key you pinned came without end-to-end encryption",
} as const;
