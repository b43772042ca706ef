/**
 * The client's end-to-end key files, per server and account, under <config dir>/e2e/<server>/
 * (the config dir is ClientApi.configDir()):
 * `<name>.identity.json` holds the account's private key (mode 0600), `<me>.peers.json` the
 * peer keys pinned on first use, so that a key the server swaps later is noticed.
 */
import { NAME_PATTERN } from "../../protocol/limits.ts";
import { Mutex, writePrivateFile } from "../types.ts";
import {
  exportIdentity,
  generateIdentity,
  type Identity,
  importIdentity,
  isPublicKey,
  type StoredIdentity,
} from "./crypto.ts";

/** Directory name for a server such as `127.0.0.1:5757`: characters a file system may refuse
 *  (`:` on Windows, `/`, `\`) become `_`. Distinct servers could collide only if their keys
 *  differ in just those characters, which real host:port strings do not. */
export function serverDirName(serverKey: string): string {
  const safe = serverKey.replace(/[^A-Za-z0-9._-]/g, "_");
  // "", "." and ".." would name the e2e directory itself or its parent.
  if (/^\.*$/.test(safe)) throw new Error(`invalid server key ${JSON.stringify(serverKey)}`);
  return safe;
}

function accountFile(configDir: string, serverKey: string, name: string, suffix: string): string {
  // Protocol names cannot contain `/` or start with `.`; checking keeps paths inside the dir.
  if (!NAME_PATTERN.test(name)) throw new Error(`invalid user name ${JSON.stringify(name)}`);
  return `${configDir}/e2e/${serverDirName(serverKey)}/${name.toLowerCase()}.${suffix}`;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path}: not valid JSON`);
  }
}

async function readIdentity(path: string): Promise<Identity> {
  try {
    return await importIdentity(await readJson(path) as StoredIdentity);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/**
 * The account's identity on this server, created on first use. A damaged file is an error,
 * never silently replaced: a new key would make every earlier message unreadable and warn
 * every peer that the key changed.
 */
export async function loadOrCreateIdentity(
  configDir: string,
  serverKey: string,
  name: string,
): Promise<{ identity: Identity; created: boolean }> {
  const path = accountFile(configDir, serverKey, name, "identity.json");
  if (await readJson(path) !== undefined) {
    return { identity: await readIdentity(path), created: false };
  }
  const identity = await generateIdentity();
  const text = JSON.stringify(await exportIdentity(identity), null, 2) + "\n";
  // Two clients of one account starting together must not both keep their own new key (one
  // would be overwritten while in use), so the file is written aside and then hard-linked into
  // place, which fails if the other got there first.
  const staging = `${path}.${crypto.randomUUID()}.new`;
  await writePrivateFile(staging, text);
  try {
    await Deno.link(staging, path);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      return { identity: await readIdentity(path), created: false };
    }
    await Deno.rename(staging, path); // a file system without hard links: still atomic
  } finally {
    await Deno.remove(staging).catch(() => {});
  }
  return { identity, created: true };
}

export interface PinnedKey {
  publicKey: string;
  /** ISO time this key was first seen for this peer */
  firstSeen: string;
  /** true once the safety numbers were compared in person for this key */
  verified: boolean;
}

function isPinnedKey(v: unknown): v is PinnedKey {
  const o = v as Record<string, unknown> | null;
  return typeof o === "object" && o !== null && isPublicKey(o.publicKey) &&
    typeof o.firstSeen === "string" && !Number.isNaN(Date.parse(o.firstSeen)) &&
    typeof o.verified === "boolean";
}

/** Peer keys pinned on first use, keyed by lower-cased peer name. */
export class PeerKeys {
  readonly #path: string;
  readonly #peers: Map<string, PinnedKey>;
  readonly #saving = new Mutex();

  private constructor(path: string, peers: Map<string, PinnedKey>) {
    this.#path = path;
    this.#peers = peers;
  }

  /** A damaged file is an error rather than an empty list: forgetting the pins would turn a
   *  changed key into a "new" one and defeat the point of pinning. */
  static async load(configDir: string, serverKey: string, me: string): Promise<PeerKeys> {
    const path = accountFile(configDir, serverKey, me, "peers.json");
    const data = await readJson(path) ?? {};
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new Error(`${path}: not an object of pinned keys`);
    }
    const peers = new Map<string, PinnedKey>();
    for (const [name, v] of Object.entries(data)) {
      if (!NAME_PATTERN.test(name) || name !== name.toLowerCase() || !isPinnedKey(v)) {
        throw new Error(`${path}: malformed entry for ${JSON.stringify(name)}`);
      }
      peers.set(name, { publicKey: v.publicKey, firstSeen: v.firstSeen, verified: v.verified });
    }
    return new PeerKeys(path, peers);
  }

  /** A copy of the pinned entry, if any. */
  get(name: string): PinnedKey | undefined {
    const entry = this.#peers.get(peerId(name));
    return entry && { ...entry };
  }

  check(name: string, publicKey: string): "new" | "same" | "changed" {
    if (!isPublicKey(publicKey)) throw new Error(`not a public key for ${name}`);
    const entry = this.#peers.get(peerId(name));
    return !entry ? "new" : entry.publicKey === publicKey ? "same" : "changed";
  }

  /** Pins a peer's key and saves. A different key starts unverified with a new firstSeen;
   *  pinning the key already pinned changes nothing, so it keeps its verification. */
  async pin(name: string, publicKey: string): Promise<void> {
    if (this.check(name, publicKey) === "same") return;
    const firstSeen = new Date().toISOString();
    this.#peers.set(peerId(name), { publicKey, firstSeen, verified: false });
    await this.#save();
  }

  /** Records that the safety numbers matched. Pass the key that was compared so that a key
   *  pinned in the meantime is not marked verified by mistake. */
  async markVerified(name: string, publicKey?: string): Promise<void> {
    const entry = this.#peers.get(peerId(name));
    if (!entry) throw new Error(`no pinned key for ${name}`);
    if (publicKey !== undefined && publicKey !== entry.publicKey) {
      throw new Error(`the pinned key for ${name} is not the one that was compared`);
    }
    entry.verified = true;
    await this.#save();
  }

  /** Writes are queued and each writes the state at its turn, so overlapping calls cannot
   *  leave an older snapshot on disk last. */
  #save(): Promise<void> {
    const write = () => {
      const text = JSON.stringify(Object.fromEntries(this.#peers), null, 2) + "\n";
      return writePrivateFile(this.#path, text);
    };
    return this.#saving.run(write);
  }
}

function peerId(name: string): string {
  if (!NAME_PATTERN.test(name)) throw new Error(`invalid user name ${JSON.stringify(name)}`);
  return name.toLowerCase();
}
