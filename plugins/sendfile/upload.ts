/** A file coming into the server's store (for someone away, or a room): chunks are written in
 *  order to a temporary file while its SHA-256 is computed, each acknowledged once on disk;
 *  only a file whose hash matches the sender's is kept. */
import { createHash } from "node:crypto";
import { ChatError } from "../../protocol/errors.ts";
import type { Session } from "../types.ts";
import { chunkBreaksRules, type Flow, type Flows } from "./flow.ts";
import { CHUNK_BYTES, FileCredit, FileStored } from "./protocol.ts";
import type { FileStore } from "./store.ts";

/** Who an upload is for, worked out again when it ends (room membership may have changed). */
export interface Target {
  /** `Bob` or `#cs350`, for messages. */
  label: string;
  room?: string;
  /** Recipients' account names (a room's read again in a cluster). */
  recipients(): Promise<string[]>;
}

export class Upload implements Flow {
  readonly id: string;
  readonly to = undefined;
  #next = 0;
  #bytes = 0;
  #hash = createHash("sha256");
  #file: Deno.FsFile | undefined;
  /** Writes in order; a chunk is credited once it is on disk. */
  #writing: Promise<unknown> = Promise.resolve();
  #written = -1;
  /** No more chunks: ended (and being kept) or failed. */
  #over = false;
  /** sendfile.end came: the file is kept even if the sender leaves now. */
  #ended = false;
  /** It ended unfinished: queued writes and the keeping are skipped. */
  #failed = false;
  /** The store's space promised to this upload is still held (released exactly once). */
  #holding = true;

  constructor(
    readonly flows: Flows,
    readonly store: FileStore,
    readonly from: Session,
    readonly target: Target,
    readonly offer: { name: string; size: number; sealed?: string },
    /** Called with the recipients once the file is kept. */
    readonly kept: (recipients: string[]) => void,
  ) {
    store.reserve(offer.size);
    this.id = flows.newId();
    flows.add(this);
  }

  get tmp(): string {
    return this.store.tmpPath(this.id);
  }

  chunk(n: number, chunk: Uint8Array | undefined): void {
    if (this.#over) return;
    if (!chunk) return this.#fail(`chunk ${n} is not base64 of at most ${CHUNK_BYTES} bytes`);
    if (
      chunkBreaksRules(n, chunk.length, {
        next: this.#next,
        sent: this.#bytes,
        acked: this.#written,
        size: this.offer.size,
        window: this.flows.window,
      })
    ) {
      return this.#fail(`chunk ${n} broke the rules (order, size or window)`);
    }
    this.#next++;
    this.#bytes += chunk.length;
    this.#writing = this.#writing.then(async () => {
      if (this.#failed) return;
      this.#file ??= await Deno.open(this.tmp, { write: true, createNew: true });
      for (let off = 0; off < chunk.length;) off += await this.#file.write(chunk.subarray(off));
      this.#hash.update(chunk); // only what is on disk counts
      this.#written = n;
      this.flows.api.send(this.from, FileCredit, { file: this.id, n });
    }).catch((e) => this.#fail(`the server could not write the file: ${e.message}`));
  }

  end(sha256: string, check: string | undefined): void {
    if (this.#over) return;
    if (this.#bytes !== this.offer.size) {
      return this.#fail(`ended after ${this.#bytes} of ${this.offer.size} bytes`);
    }
    this.#over = this.#ended = true;
    this.#writing = this.#writing.then(() => this.#keep(sha256, check))
      .catch((e) => {
        const code = e instanceof ChatError ? e.code : "TRANSFER_CANCELLED";
        this.#abort(
          e instanceof ChatError ? e.message : `the server could not keep it: ${e}`,
          code,
        );
      });
  }

  async #keep(sha256: string, check: string | undefined) {
    if (this.#failed) return; // a write failed: the sender was told, the space freed
    this.#file ??= await Deno.open(this.tmp, { write: true, createNew: true });
    this.#file.close();
    this.#file = undefined;
    if (this.#hash.digest("hex") !== sha256) {
      throw new ChatError("CHECKSUM_MISMATCH", "the server got different bytes; nothing was kept");
    }
    const recipients = await this.target.recipients();
    const { name, size, sealed } = this.offer;
    await this.store.keep(this.tmp, {
      sha256,
      bytes: size,
      sender: this.from.name!,
      room: this.target.room ?? null,
      name,
      sealed: sealed ?? null,
      check_sealed: check ?? null,
    }, recipients.map((r) => r.toLowerCase()));
    this.#release();
    this.flows.remove(this);
    const { sessions } = this.flows.api;
    // Online here with a client that takes files, or on another node (it will be told).
    const online = recipients.filter((r) => {
      const s = sessions.get(r);
      return s ? s.mode === "json" : sessions.online(r);
    });
    this.flows.api.send(this.from, FileStored, {
      file: this.id,
      name,
      to: this.target.label,
      now: online.length,
      later: recipients.length - online.length,
    });
    this.flows.api.log.info(
      // A sealed file's name is the sender's secret: the server knows only that it is one.
      `kept ${sealed ? "an end-to-end encrypted file" : JSON.stringify(name)} (${size} bytes)` +
        ` from ${this.from.name} for ${this.target.label}`,
    );
    this.kept(recipients);
  }

  ack(): boolean {
    return false; // the server is the receiver: a client has no acks to give
  }
  verdict(): void {}

  stop(_by: Session | undefined, why: string): void {
    if (!this.#ended) this.#abort(why);
  }

  #fail(why: string) {
    this.#over = true;
    this.#abort(why);
  }

  #release() {
    if (this.#holding) this.store.release(this.offer.size);
    this.#holding = false;
  }

  /** Ends it unfinished: tells the sender (if it is not the one who left) and frees the space. */
  #abort(why: string, code = "TRANSFER_CANCELLED") {
    if (this.flows.find(this.id, this.from) === undefined) return; // ended already
    this.#over = this.#failed = true;
    this.flows.remove(this);
    this.#release();
    this.flows.cancelled(this.id, [this.from], why, code);
    this.#writing = this.#writing.then(() => {
      this.#file?.close();
      this.#file = undefined;
      return Deno.remove(this.tmp).catch(() => {});
    });
    this.flows.api.log.info(`upload ${this.id} from ${this.from.name} ended: ${why}`);
  }
}
