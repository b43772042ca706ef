/**
 * encrypt: end-to-end encryption of direct messages. Each account has an X25519 identity key
 * made on the client (the private half never leaves it); the server stores and serves only
 * public keys. Clients seal dm bodies per message (ECDH + HKDF -> AES-256-GCM, crypto.ts), so
 * the server, its store and its operator relay ciphertext they cannot read.
 */
import type { Plugin } from "../types.ts";
import { ENCRYPT_ERRORS } from "./errors.ts";
import { encryptClient } from "./client.ts";
import { ENCRYPT_MIGRATIONS, encryptServer } from "./server.ts";

export const encrypt: Plugin = {
  name: "encrypt",
  summary: "end-to-end encrypted direct messages",
  errors: ENCRYPT_ERRORS,
  requires: ["dm"],
  migrations: ENCRYPT_MIGRATIONS,
  server: encryptServer,
  client: encryptClient,
};
