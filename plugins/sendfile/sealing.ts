/**
 * End-to-end encryption of a file to one user, when the encrypt plugin is there. The sender
 * makes a random AES-256-GCM key and seals it, with the real name and size, for the receiver
 * (the "encrypt.sealer" service); the offer shows the server only "encrypted file". Each chunk
 * is sealed with the chunk index and a random per-file tag bound in, so chunks cannot be
 * reordered or moved between files; the plaintext's SHA-256 is sealed at the end, so neither
 * can the file be cut short.
 */
import { ChatError } from "../../protocol/errors.ts";
import type { ClientCtx } from "../types.ts";
import type { Sealer } from "../services.ts";
import { fromB64u, randomBytes, toB64u } from "../../protocol/base64url.ts";
import { importFileKey, newFileKey, openChunk, sealChunk } from "./file_crypto.ts";
import { CHUNK_BYTES } from "./protocol.ts";

/** What sealing adds to a chunk: a 12-byte IV and a 16-byte GCM tag. */
const SEAL_OVERHEAD = 28;
/** Plaintext bytes per sealed chunk, so that a sealed chunk is CHUNK_BYTES at most. */
export const PLAIN_CHUNK = CHUNK_BYTES - SEAL_OVERHEAD;
/** The chunk index that seals the plaintext's SHA-256: past any real chunk. */
const END_INDEX = Number.MAX_SAFE_INTEGER;
/** Bound into the sealed envelope: a sealed direct message cannot pass for a file key. */
const CONTEXT = "file";
/** The name an encrypted offer shows the server. */
export const SEALED_NAME = "encrypted file";

export interface FileSecret {
  key: CryptoKey;
  tag: string;
  name: string;
  /** Plaintext bytes. */
  size: number;
}

/** Bytes on the wire for `size` plaintext bytes: every chunk (at least one) grows by 28. */
export function sealedSize(size: number): number {
  return size + SEAL_OVERHEAD * Math.max(1, Math.ceil(size / PLAIN_CHUNK));
}

/** A new key for one file, and the envelope sealed for `peer`; undefined when the file goes
 *  in the clear (no encrypt plugin, encryption off, or a peer never pinned has no key yet).
 *  Throws, before anything is sent, KEY_CHANGED or KEY_MISSING when `peer`'s pinned key
 *  changed or is no longer offered by the server: only /e2e off sends a file in the clear. */
export async function sealFor(
  ctx: ClientCtx,
  sealer: Sealer | undefined,
  peer: string,
  name: string,
  size: number,
): Promise<{ secret: FileSecret; sealed: string } | undefined> {
  if (!sealer) return undefined;
  const { key, raw } = await newFileKey();
  const tag = toB64u(randomBytes(16));
  const envelope = JSON.stringify({ v: 1, key: raw, tag, name, size });
  const sealed = await sealer.seal(ctx, peer, envelope, CONTEXT);
  return sealed === undefined ? undefined : { secret: { key, tag, name, size }, sealed };
}

/** Opens an offer's envelope; E2E_FAILED if it cannot be opened or makes no sense. */
export async function openEnvelope(
  ctx: ClientCtx,
  sealer: Sealer | undefined,
  from: string,
  sealed: string,
): Promise<FileSecret> {
  if (!sealer) {
    throw new ChatError("E2E_FAILED", `${from} sent an encrypted file; this client cannot open it`);
  }
  const text = await sealer.open(ctx, from, sealed, CONTEXT, "a file");
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(text);
  } catch {
    e = {};
  }
  const { v, key, tag, name, size } = e;
  if (
    v !== 1 || typeof key !== "string" || typeof tag !== "string" || typeof name !== "string" ||
    name === "" || !Number.isSafeInteger(size) || (size as number) < 0
  ) {
    throw new ChatError("E2E_FAILED", `the encrypted file from ${from} has a bad envelope`);
  }
  return { key: await importFileKey(key), tag, name, size: size as number };
}

export const sealBytes = (s: FileSecret, n: number, plain: Uint8Array) =>
  sealChunk(s.key, s.tag, n, plain);

export async function openBytes(s: FileSecret, n: number, sealed: Uint8Array) {
  try {
    return await openChunk(s.key, s.tag, n, sealed);
  } catch (e) {
    throw new ChatError("E2E_FAILED", (e as Error).message);
  }
}

/** The plaintext's SHA-256 (hex), sealed for sendfile.end's `check`. */
export async function sealCheck(s: FileSecret, sha256: string): Promise<string> {
  return toB64u(await sealChunk(s.key, s.tag, END_INDEX, new TextEncoder().encode(sha256)));
}

/** The SHA-256 sealed in `check`, or undefined if it does not open. */
export async function openCheck(s: FileSecret, check: string): Promise<string | undefined> {
  try {
    const bytes = await openChunk(s.key, s.tag, END_INDEX, fromB64u(check));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}
