/** base64url (no padding) and random bytes, shared by the end-to-end encryption modules. */

export function toB64u(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes base64url without padding; only the canonical spelling is accepted, so one key or
 *  one ciphertext has exactly one string form (pin comparisons and AAD rely on that). */
export function fromB64u(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error("not base64url");
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  if (toB64u(bytes) !== s) throw new Error("not canonical base64url");
  return bytes;
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
