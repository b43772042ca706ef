import { ChatError } from "../../protocol/errors.ts";
import type { Migration, ServerApi } from "../types.ts";
import { EncryptChanged, EncryptKey, EncryptPublish } from "./protocol.ts";

export const ENCRYPT_MIGRATIONS: Migration[] = [{
  sql: `CREATE TABLE encrypt_keys (
    name_key TEXT PRIMARY KEY,  -- lower-cased account name
    public_key TEXT NOT NULL,   -- base64url X25519 (the private key never leaves the client)
    updated_at INTEGER NOT NULL)`,
}];

export function encryptServer(api: ServerApi) {
  // encrypt.publish {key} -> ack {replaced}
  api.on(EncryptPublish, async ({ key }, ctx) => {
    const name = ctx.session.name!;
    const prior = await api.db.get<{ public_key: string }>(
      "SELECT public_key FROM encrypt_keys WHERE name_key = ?",
      [name.toLowerCase()],
    );
    if (prior?.public_key === key) return { replaced: false };
    await api.db.run(
      "INSERT INTO encrypt_keys (name_key, public_key, updated_at) VALUES (?, ?, ?)" +
        " ON CONFLICT (name_key) DO UPDATE SET public_key = excluded.public_key," +
        " updated_at = excluded.updated_at",
      [name.toLowerCase(), key, Date.now()],
    );
    if (prior) {
      api.log.info(`${name} published a new identity key`);
      api.broadcast(EncryptChanged, { name, key }, ctx.session);
    }
    return { replaced: prior !== undefined };
  });

  // encrypt.key {name} -> ack {name, key | null} | NO_SUCH_USER
  api.on(EncryptKey, async ({ name }) => {
    // A name with no account is said so at once: the sender is told "no such user", not
    // that the message will go unencrypted.
    const canonical = api.sessions.get(name)?.name ?? api.accounts.canonical(name);
    if (!canonical) throw new ChatError("NO_SUCH_USER", `there is no user named "${name}"`);
    const row = await api.db.get<{ public_key: string }>(
      "SELECT public_key FROM encrypt_keys WHERE name_key = ?",
      [name.toLowerCase()],
    );
    return { name: canonical, key: row?.public_key ?? null };
  });
}
