/** base64url without padding, canonical, as keys, sealed texts and file checks are written on
 *  the wire (plugins encrypt and sendfile); and random bytes. Built on Uint8Array.toBase64. */

export function toB64u(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The padding that strict decoding wants back, by length mod 4 (1 is never base64). */
const PADDING = ["", "", "==", "="];

/** Decodes base64url without padding; only the canonical spelling is accepted, so one key or
 *  one ciphertext has exactly one string form (pin comparisons and AAD rely on that). */
export function fromB64u(s: string): Uint8Array<ArrayBuffer> {
  // The alphabet only: fromBase64 would skip whitespace and take padding.
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error("not base64url");
  try {
    // Strict: spare bits in the last character must be zero, which makes the spelling unique.
    return Uint8Array.fromBase64(s + PADDING[s.length % 4], {
      alphabet: "base64url",
      lastChunkHandling: "strict",
    });
  } catch {
    throw new Error("not canonical base64url");
  }
}

/** The decoded bytes if `s` is canonical base64url of min..max bytes, else undefined. The
 *  length is checked before decoding so a huge string from the wire costs nothing. */
export function b64uBytes(
  s: unknown,
  min: number,
  max: number,
): Uint8Array<ArrayBuffer> | undefined {
  if (typeof s !== "string" || s.length > Math.ceil(max * 4 / 3)) return undefined;
  try {
    const bytes = fromB64u(s);
    return bytes.length >= min && bytes.length <= max ? bytes : undefined;
  } catch {
    return undefined;
  }
}

export const randomBytes = (n: number): Uint8Array<ArrayBuffer> =>
  crypto.getRandomValues(new Uint8Array(n));
