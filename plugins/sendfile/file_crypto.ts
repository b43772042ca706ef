/**
 * Encryption of file-transfer chunks: one random AES-256-GCM key per file, sent to the peer
 * in the offer's envelope, sealed by the encrypt plugin's "encrypt.sealer" service (sealing.ts); each chunk carries its own random 12-byte IV (safe: a file
 * has far fewer than the 2^32 messages per key that random 96-bit IVs allow).
 */
import { b64uBytes, randomBytes, toB64u } from "../../protocol/base64url.ts";

const IV_BYTES = 12;
const TAG_BYTES = 16;
const enc = new TextEncoder();

/** A random AES-256-GCM key for one file; `raw` (base64url, 32 bytes) travels in a sealed DM. */
export async function newFileKey(): Promise<{ key: CryptoKey; raw: string }> {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, [
    "encrypt",
    "decrypt",
  ]);
  return { key, raw: toB64u(new Uint8Array(await crypto.subtle.exportKey("raw", key))) };
}

export async function importFileKey(raw: string): Promise<CryptoKey> {
  const bytes = b64uBytes(raw, 32, 32);
  if (!bytes) throw new Error("file key must be 32 bytes of base64url");
  return await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** AAD = index (8 bytes big-endian) then the file id, so chunks cannot be reordered or moved
 *  between files. Dropping trailing chunks is not detectable here: the sealed offer that
 *  carries the key must also carry the chunk count, and the receiver must check it. */
function chunkAad(fileId: string, index: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error(`bad chunk index ${index}`);
  const id = enc.encode(fileId);
  const aad = new Uint8Array(8 + id.length);
  new DataView(aad.buffer).setBigUint64(0, BigInt(index));
  aad.set(id, 8);
  return aad;
}

/** Returns iv (12 random bytes) followed by ciphertext and tag. */
export async function sealChunk(
  key: CryptoKey,
  fileId: string,
  index: number,
  data: Uint8Array,
): Promise<Uint8Array> {
  const iv = randomBytes(IV_BYTES);
  // The copy gives WebCrypto an ArrayBuffer-backed view whatever buffer the caller used.
  const params = { name: "AES-GCM", iv, additionalData: chunkAad(fileId, index) };
  const ct = new Uint8Array(await crypto.subtle.encrypt(params, key, new Uint8Array(data)));
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return out;
}

export async function openChunk(
  key: CryptoKey,
  fileId: string,
  index: number,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  const aad = chunkAad(fileId, index);
  if (sealed.length < IV_BYTES + TAG_BYTES) {
    throw new Error(`cannot decrypt chunk ${index}: too short`);
  }
  try {
    const iv = new Uint8Array(sealed.subarray(0, IV_BYTES));
    const ct = new Uint8Array(sealed.subarray(IV_BYTES));
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, ct),
    );
  } catch {
    throw new Error(`cannot decrypt chunk ${index}: altered, misplaced, or wrong key`);
  }
}
