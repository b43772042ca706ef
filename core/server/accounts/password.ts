/**
 * Password hashing with scrypt (node:crypto, computed off the main thread so other sessions
 * keep being served while a login hashes). A stored hash names its own parameters:
 *
 *   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>
 *
 * so the cost can be raised later without breaking existing accounts: a login whose stored
 * parameters differ from the server's current ones is re-hashed with the current ones.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

export interface ScryptParams {
  /** log2 of the CPU/memory cost N; memory per hash is 128 * N * r bytes. */
  logN: number;
  r: number;
  p: number;
}

/** N = 2^15, r = 8, p = 1: 32 MiB and about 0.1 s per hash on one core of the test machine;
 *  twice the scrypt paper's cost for interactive logins. Reconnects present a resume token
 *  instead, so a server restart does not make every client pay this at once. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ logN: 15, r: 8, p: 1 });
/** Lowest cost `--scrypt-cost` accepts: for tests and load generation only. */
export const MIN_SCRYPT_LOG_N = 10;
export const MAX_SCRYPT_LOG_N = 20;
/** Random salt per account, so equal passwords hash differently and tables don't help. */
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Hashes running at once; more queue. Each holds 128*N*r bytes, so this bounds memory
 *  (64 MiB at the default) as well as CPU during a burst of logins. */
const MAX_CONCURRENT_HASHES = 2;

/** Shortest password accepted: a class chat is not a bank, but 8 rules out "1234". */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password: bounds the work an attacker can make one hash cost. */
export const MAX_PASSWORD_LENGTH = 1024;

let running = 0;
const waiting: Array<() => void> = [];

async function derive(password: string, salt: Uint8Array, o: ScryptParams): Promise<Uint8Array> {
  if (running >= MAX_CONCURRENT_HASHES) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    const N = 2 ** o.logN;
    return await new Promise<Uint8Array>((resolve, reject) =>
      scrypt(
        password.normalize("NFC"),
        salt,
        HASH_BYTES,
        { N, r: o.r, p: o.p, maxmem: 256 * N * o.r },
        (err, key) => err ? reject(err) : resolve(new Uint8Array(key)),
      )
    );
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export async function hashPassword(password: string, o: ScryptParams): Promise<string> {
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const hash = await derive(password, salt, o);
  return ["scrypt", o.logN, o.r, o.p, b64(salt), b64(hash)].join("$");
}

/** True if `password` matches `stored`; the final comparison takes constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseStored(stored);
  if (!parsed) return false;
  const got = await derive(password, parsed.salt, parsed.params);
  return got.length === parsed.hash.length && timingSafeEqual(got, parsed.hash);
}

/** True if `stored` was hashed with other parameters than `o` (and should be re-hashed). */
export function needsRehash(stored: string, o: ScryptParams): boolean {
  const p = parseStored(stored)?.params;
  return !p || p.logN !== o.logN || p.r !== o.r || p.p !== o.p;
}

function parseStored(stored: string) {
  const m = stored.match(/^scrypt\$(\d+)\$(\d+)\$(\d+)\$([\w-]+)\$([\w-]+)$/);
  if (!m) return undefined;
  return {
    params: { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) },
    salt: new Uint8Array(Buffer.from(m[4], "base64url")),
    hash: new Uint8Array(Buffer.from(m[5], "base64url")),
  };
}

/** A password's length is checked before any hashing; returns a problem or undefined. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) {
    return `a password has at least ${MIN_PASSWORD_LENGTH} characters`;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  }
  return undefined;
}

export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}
