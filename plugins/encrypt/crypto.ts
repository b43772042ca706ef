/**
 * Cryptographic core of end-to-end encrypted direct messages. No I/O: the server only relays
 * sealed messages and serves public keys, so everything here runs on the clients (the server
 * uses isPublicKey and decodeSealed to refuse malformed frames).
 *
 * Identity keys are X25519 (WebCrypto in Deno 2.9 supports generate, import, export and
 * deriveBits for it): 32-byte keys, constant-time by design, and no point validation pitfalls;
 * deriveBits also rejects low-order peer keys (an all-zero shared secret).
 */

import { b64uBytes, fromB64u, randomBytes, toB64u } from "../../protocol/base64url.ts";

export const ALG = "X25519";
const PUBLIC_KEY_BYTES = 32;
const SALT_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Largest sealed plaintext: 8,000 UTF-16 code units (the default text limit) take at most
 *  24,000 UTF-8 bytes; 32 KiB leaves room for a raised limit while the base64url ciphertext
 *  (about 43,700 characters) still fits a 64 KiB frame with the other fields. */
export const MAX_TEXT_BYTES = 32 * 1024;
const MAX_CT_BYTES = MAX_TEXT_BYTES + TAG_BYTES;
const DM_INFO = "classchat-e2e-v1 dm";

export interface Identity {
  alg: string;
  /** base64url of the raw 32-byte public key */
  publicKey: string;
  privateKey: CryptoKey;
}

/** What the keystore writes to disk; JSON-able. */
export interface StoredIdentity {
  v: 1;
  alg: string;
  publicKey: string;
  privateJwk: JsonWebKey;
}

/** A sealed direct message on the wire; every field is base64url without padding. */
export interface Sealed {
  v: 1;
  salt: string;
  iv: string;
  ct: string;
}

/** The two ends of a direct message as the message claims them; all are bound as AAD. */
export interface DmParties {
  sender: string;
  senderKey: string;
  receiver: string;
  receiverKey: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

// ---- identity -----------------------------------------------------------------------------

export function isPublicKey(s: unknown): s is string {
  return b64uBytes(s, PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES) !== undefined;
}

function importPublic(publicKey: string): Promise<CryptoKey> {
  if (!isPublicKey(publicKey)) throw new Error("not an X25519 public key");
  return crypto.subtle.importKey("raw", fromB64u(publicKey), { name: ALG }, true, []);
}

export async function generateIdentity(): Promise<Identity> {
  // Extractable so that the keystore can save it; it never leaves the client.
  const usages: KeyUsage[] = ["deriveBits"];
  const pair = await crypto.subtle.generateKey({ name: ALG }, true, usages) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { alg: ALG, publicKey: toB64u(raw), privateKey: pair.privateKey };
}

export async function exportIdentity(id: Identity): Promise<StoredIdentity> {
  const jwk = await crypto.subtle.exportKey("jwk", id.privateKey);
  return {
    v: 1,
    alg: id.alg,
    publicKey: id.publicKey,
    privateJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d },
  };
}

export async function importIdentity(s: StoredIdentity): Promise<Identity> {
  const bad = (why: string) => new Error(`malformed identity: ${why}`);
  const o = s as unknown as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null) throw bad("not an object");
  if (o.v !== 1) throw bad(`unsupported version ${JSON.stringify(o.v)}`);
  if (o.alg !== ALG) throw bad(`unsupported algorithm ${JSON.stringify(o.alg)}`);
  if (!isPublicKey(o.publicKey)) throw bad("publicKey is not a base64url X25519 key");
  const jwk = o.privateJwk as Record<string, unknown> | null;
  if (typeof jwk !== "object" || jwk === null) throw bad("privateJwk is not an object");
  if (jwk.kty !== "OKP" || jwk.crv !== ALG) throw bad("privateJwk is not an X25519 key");
  if (jwk.x !== o.publicKey) throw bad("privateJwk.x differs from publicKey");
  if (b64uBytes(jwk.d, 32, 32) === undefined) throw bad("privateJwk.d is not 32 bytes");
  let privateKey: CryptoKey;
  try {
    const clean = { kty: "OKP", crv: ALG, x: jwk.x, d: jwk.d as string };
    privateKey = await crypto.subtle.importKey("jwk", clean, { name: ALG }, true, ["deriveBits"]);
  } catch (e) {
    throw bad(`private key rejected (${(e as Error).message})`);
  }
  // WebCrypto does not check that x belongs to d; a mismatch would publish a key whose
  // messages we could never open, so prove the pair with a throwaway exchange.
  const probe = await generateIdentity();
  const mine = await sharedBits(privateKey, probe.publicKey);
  const theirs = await sharedBits(probe.privateKey, o.publicKey);
  if (!equalBytes(mine, theirs)) throw bad("publicKey does not belong to the private key");
  return { alg: ALG, publicKey: o.publicKey, privateKey };
}

async function sharedBits(myPrivate: CryptoKey, peerKey: string) {
  const pub = await importPublic(peerKey);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: ALG, public: pub }, myPrivate, 256));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/** `ab12 cd34 …` (8 groups): SHA-256 of the raw key, first 16 bytes, for display and for
 *  noticing a changed key at a glance. */
export async function keyFingerprint(publicKey: string): Promise<string> {
  if (!isPublicKey(publicKey)) throw new Error("not an X25519 public key");
  const hex = [...(await sha256(fromB64u(publicKey))).slice(0, 16)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g)!.join(" ");
}

type Party = { name: string; publicKey: string };

/** `12345 67890 …` (6 groups, about 100 bits): read aloud by both people to compare keys. The
 *  parties are sorted so both sides compute the same number; names are included so a key
 *  vouched for under one name cannot be passed off under another. */
export async function safetyNumber(a: Party, b: Party): Promise<string> {
  for (const p of [a, b]) {
    if (!isPublicKey(p.publicKey)) throw new Error(`not an X25519 public key for ${p.name}`);
    checkName(p.name);
  }
  const key = (p: Party) => `${p.name.toLowerCase()}\n${p.publicKey}`;
  const [x, y] = [a, b].sort((p, q) => (key(p) < key(q) ? -1 : key(p) > key(q) ? 1 : 0));
  const hash = await sha256(enc.encode(`classchat-verify-v1\n${key(x)}\n${key(y)}`));
  const view = new DataView(hash.buffer);
  const groups = Array.from({ length: 6 }, (_, i) => view.getUint32(i * 4) % 100000);
  return groups.map((g) => String(g).padStart(5, "0")).join(" ");
}

/** Names are newline-separated in AAD and safety numbers, so a newline would make two
 *  different contexts spell the same bytes. Protocol names never contain one. */
function checkName(name: string): void {
  if (typeof name !== "string" || name === "" || /[\n\r]/.test(name)) {
    throw new Error(`invalid name ${JSON.stringify(name)}`);
  }
}

// ---- direct messages ----------------------------------------------------------------------

/** Binds who sent what to whom with which keys, so the server cannot relabel a message, and
 *  what it is (`context`, e.g. "file" for a file's key), so it cannot pass one off as another. */
function dmAad(p: DmParties & { context?: string }): Uint8Array<ArrayBuffer> {
  checkName(p.sender);
  checkName(p.receiver);
  if (!isPublicKey(p.senderKey) || !isPublicKey(p.receiverKey)) {
    throw new Error("not an X25519 public key");
  }
  const s = `classchat-e2e-v1\n${p.sender.toLowerCase()}\n${p.receiver.toLowerCase()}\n` +
    `${p.senderKey}\n${p.receiverKey}` + (p.context ? `\n${p.context}` : "");
  return enc.encode(s);
}

async function messageKey(myPrivate: CryptoKey, peerKey: string, salt: Uint8Array<ArrayBuffer>) {
  const bits = await sharedBits(myPrivate, peerKey);
  const ikm = await crypto.subtle.importKey("raw", bits, "HKDF", false, ["deriveKey"]);
  const params = { name: "HKDF", hash: "SHA-256", salt, info: enc.encode(DM_INFO) };
  const aes = { name: "AES-GCM", length: 256 };
  return crypto.subtle.deriveKey(params, ikm, aes, false, ["encrypt", "decrypt"]);
}

/** Seals `text` from `sender` (whose private key is myPrivate) to `receiver`. */
export async function seal(
  o: DmParties & { myPrivate: CryptoKey; text: string; context?: string },
): Promise<Sealed> {
  const plain = enc.encode(o.text);
  if (plain.length > MAX_TEXT_BYTES) throw new Error(`text exceeds ${MAX_TEXT_BYTES} bytes`);
  const salt = randomBytes(SALT_BYTES);
  // The key is fresh per message (new random salt), so a random IV can never repeat under it.
  const iv = randomBytes(IV_BYTES);
  const params = { name: "AES-GCM", iv, additionalData: dmAad(o) };
  const key = await messageKey(o.myPrivate, o.receiverKey, salt);
  const ct = await crypto.subtle.encrypt(params, key, plain);
  return { v: 1, salt: toB64u(salt), iv: toB64u(iv), ct: toB64u(new Uint8Array(ct)) };
}

/**
 * Opens a sealed message as either end: the receiver, or the sender rereading what it sent.
 * ECDH is symmetric, so the shared secret comes from my private key and whichever key of the
 * two is not mine; `myKey` (my public key) says which one that is.
 */
export async function open(
  o: DmParties & { myPrivate: CryptoKey; myKey: string; sealed: Sealed; context?: string },
): Promise<string> {
  const peerKey = o.myKey === o.receiverKey
    ? o.senderKey
    : o.myKey === o.senderKey
    ? o.receiverKey
    : undefined;
  if (peerKey === undefined) {
    throw new Error("cannot decrypt: message is neither from nor to my key");
  }
  const s = decodeSealed(o.sealed);
  const params = { name: "AES-GCM", iv: fromB64u(s.iv), additionalData: dmAad(o) };
  let key: CryptoKey;
  try {
    key = await messageKey(o.myPrivate, peerKey, fromB64u(s.salt));
  } catch (e) {
    throw new Error(`cannot decrypt: bad key (${(e as Error).message})`);
  }
  try {
    return dec.decode(await crypto.subtle.decrypt(params, key, fromB64u(s.ct)));
  } catch {
    throw new Error("cannot decrypt: altered, relabelled, or sealed for another key");
  }
}

/** Validates a sealed message from the wire and returns a copy holding only its fields. */
export function decodeSealed(v: unknown): Sealed {
  const o = v as Record<string, unknown> | null;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new Error("sealed: not an object");
  }
  if (o.v !== 1) throw new Error(`sealed: unsupported version ${JSON.stringify(o.v)}`);
  if (!b64uBytes(o.salt, SALT_BYTES, SALT_BYTES)) throw new Error("sealed: salt must be 32 bytes");
  if (!b64uBytes(o.iv, IV_BYTES, IV_BYTES)) throw new Error("sealed: iv must be 12 bytes");
  if (!b64uBytes(o.ct, TAG_BYTES, MAX_CT_BYTES)) {
    throw new Error(`sealed: ct must be ${TAG_BYTES} to ${MAX_CT_BYTES} bytes of base64url`);
  }
  return { v: 1, salt: o.salt as string, iv: o.iv as string, ct: o.ct as string };
}
