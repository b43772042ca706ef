/** One file coming in: what was offered, where it is written (`<downloads>/<name>.part`),
 *  and its write path: chunks taken in order, opened first if the file is end-to-end
 *  encrypted, and hashed as they come. */
import { createHash, type Hash } from "node:crypto";
import type { Ui } from "../types.ts";
import { type FileSecret, openBytes, openCheck } from "./sealing.ts";
import { Progress } from "./progress.ts";

/** How a file travelled, for the notices: sealed, or unsealed from a pinned peer. */
export const e2eNote = (t: { secret?: FileSecret; unsealed: boolean }) =>
  t.secret ? ", end-to-end encrypted" : t.unsealed ? ", NOT end-to-end encrypted" : "";

/** What an offer came to once opened and given a place on disk. */
export interface Taken {
  from: string;
  name: string;
  /** Bytes on the wire, and of the file itself (fewer when sealed). */
  wireSize: number;
  size: number;
  /** The server kept it (the sender may be gone): a lasting problem gets a verdict, not a
   *  cancel, so the server does not offer it again. */
  kept: boolean;
  secret?: FileSecret;
  /** Unsealed from someone whose key is pinned: said so up to the end. */
  unsealed: boolean;
  dir: string;
  part: string;
  file: Deno.FsFile;
}

/** Why a chunk was not taken: the error shown, and whether the problem lasts (it does not
 *  open: tampered), which for a kept file is a failed verdict rather than a cancel. */
export interface Refusal {
  code: string;
  why: string;
  lasting?: boolean;
}

export class IncomingFile implements Taken {
  readonly from: string;
  readonly name: string;
  readonly wireSize: number;
  readonly size: number;
  readonly kept: boolean;
  readonly secret?: FileSecret;
  readonly unsealed: boolean;
  readonly dir: string;
  readonly part: string;
  readonly file: Deno.FsFile;
  readonly progress: Progress;
  #plain: Hash = createHash("sha256");
  #wire: Hash | undefined;
  #next = 0;
  #wireBytes = 0;
  #bytes = 0;

  constructor(readonly id: string, t: Taken, ui: Ui) {
    this.from = t.from;
    this.name = t.name;
    this.wireSize = t.wireSize;
    this.size = t.size;
    this.kept = t.kept;
    this.secret = t.secret;
    this.unsealed = t.unsealed;
    this.dir = t.dir;
    this.part = t.part;
    this.file = t.file;
    this.#wire = t.secret && createHash("sha256");
    this.progress = new Progress(ui, id, `↓ ${t.name} from ${t.from}`, t.size);
  }

  /** Chunk n: opened, checked against the offer and written; a refusal if not. */
  async take(n: number, bytes: Uint8Array | undefined): Promise<Refusal | undefined> {
    if (!bytes) return { code: "TRANSFER_CANCELLED", why: `chunk ${n} is not base64` };
    if (n !== this.#next || this.#wireBytes + bytes.length > this.wireSize) {
      return { code: "TRANSFER_CANCELLED", why: `chunk ${n} out of order or too big` };
    }
    let plain: Uint8Array = bytes;
    if (this.secret) {
      this.#wire!.update(bytes);
      try {
        plain = await openBytes(this.secret, n, bytes);
      } catch (e) {
        return { code: "E2E_FAILED", why: (e as Error).message, lasting: true };
      }
    }
    if (this.#bytes + plain.length > this.size) {
      return { code: "TRANSFER_CANCELLED", why: "more bytes than offered" };
    }
    try {
      for (let off = 0; off < plain.length;) off += await this.file.write(plain.subarray(off));
    } catch (e) {
      return { code: "FILE_UNREADABLE", why: `cannot write: ${(e as Error).message}` };
    }
    this.#plain.update(plain);
    this.#next++;
    this.#wireBytes += bytes.length;
    this.#bytes += plain.length;
    this.progress.update(this.#bytes);
  }

  /** Did the whole file come, and match the sender's SHA-256 (of the sealed bytes, and the
   *  sealed check of the plain ones, when end-to-end encrypted)? */
  async verify(sha256: string, check: string | undefined): Promise<boolean> {
    const plain = this.#plain.digest("hex");
    return this.#wireBytes === this.wireSize && this.#bytes === this.size &&
      (this.secret
        ? this.#wire!.digest("hex") === sha256 && check !== undefined &&
          await openCheck(this.secret, check) === plain
        : plain === sha256);
  }

  /** Ends it unfinished: the progress line and the partial file go. */
  async discard(): Promise<void> {
    this.progress.finish();
    try {
      this.file.close();
    } catch { /* closed already */ }
    await this.removePart();
  }

  removePart(): Promise<void> {
    return Deno.remove(this.part).catch(() => {});
  }

  /** The same, at once, for a client that is quitting. */
  removeSync(): void {
    try {
      this.file.close();
      Deno.removeSync(this.part);
    } catch { /* gone already */ }
  }
}
