/** Kept files going out to their recipients: one at a time per session, read from the store in
 *  chunks no faster than the receiver acknowledges them (and its send queue drains). A file
 *  is forgotten for a recipient once it sent a verdict; an interrupted one is sent again, from
 *  the start, at the next login. */
import type { ServerApi, Session } from "../types.ts";
import type { Flow, Flows } from "./flow.ts";
import { ChatError } from "../../protocol/errors.ts";
import { Outgoing } from "./sending.ts";
import { CHUNK_BYTES, FileChunk, FileEnd, FileIncoming, FileVerified } from "./protocol.ts";
import type { FileStore, StoredFile } from "./store.ts";

class Delivery implements Flow {
  readonly id: string;
  readonly from = undefined;
  /** The credit window and the verdict, kept as a sending client keeps them. */
  readonly #out: Outgoing;

  constructor(
    readonly flows: Flows,
    readonly to: Session,
    readonly file: StoredFile,
    /** When the receiver logged in: a file kept before that waited for it. */
    readonly since: number,
  ) {
    this.id = flows.newId();
    this.#out = new Outgoing(flows.window);
    flows.add(this);
  }

  /** Streams the file; resolves with the receiver's verdict, or undefined if it stopped. */
  async run(store: FileStore): Promise<boolean | undefined> {
    const { api } = this.flows;
    const f = this.file;
    api.send(this.to, FileIncoming, {
      file: this.id,
      from: f.sender,
      name: f.name,
      size: f.bytes,
      room: f.room ?? undefined,
      sealed: f.sealed ?? undefined,
      kept: true,
      sent: f.created_at < this.since ? f.created_at : undefined,
    });
    try {
      const blob = await store.reader(f);
      using _close = { [Symbol.dispose]: () => blob.close() };
      for (let n = 0; !this.#out.finished; n++) {
        await this.#out.room(n);
        await api.writable(this.to);
        // A buffer per chunk: sent bytes are queued as they are, not copied (ServerApi.send).
        const buf = new Uint8Array(CHUNK_BYTES);
        const got = await blob.read(buf);
        if (got === 0 && n > 0) break;
        api.send(this.to, FileChunk, { file: this.id, n, data: buf.subarray(0, got) });
        if (got < buf.length) break;
      }
      if (!this.#out.finished) {
        const end = { file: this.id, sha256: f.sha256, check: f.check_sealed ?? undefined };
        api.send(this.to, FileEnd, end);
      }
      const v = await this.#out.result;
      return v.kind === "verified" ? v.ok : undefined;
    } catch (e) {
      if (e instanceof ChatError) return undefined; // stopped: offered again next login
      throw e;
    }
  }

  chunk(): void {}
  end(): void {}

  ack(n: number): boolean {
    return this.#out.credit(n);
  }

  verdict(ok: boolean): void {
    this.#out.finish({ kind: "verified", by: this.to.name!, ok });
  }

  stop(by: Session | undefined, why: string): void {
    // Stalled: the receiver is told, so it drops its partial file; offered again next login.
    if (!by) this.flows.cancelled(this.id, [this.to], why);
    this.#out.fail(why);
    this.flows.api.log.info(`delivery ${this.id} of ${this.file.name} to ${this.to.name}: ${why}`);
  }
}

interface State {
  since: number;
  running: boolean;
  again: boolean;
  /** Made at the first kept file tried: most sessions never get one. */
  tried: Set<number> | undefined;
}

/** Hands kept files to their recipients when they are online with a client that can take
 *  them (not plain-text connections). */
export class Deliveries {
  /** Per session: since when it is online, running, asked to look again, stored ids tried. */
  readonly #state: (s: Session) => State;

  constructor(readonly api: ServerApi, readonly flows: Flows, readonly store: FileStore) {
    this.#state = api.sessionState(() => ({
      since: Date.now(),
      running: false,
      again: false,
      tried: undefined,
    }));
  }

  /** Looks for files waiting for `s` and sends them, one after another. */
  kick(s: Session): void {
    if (s.mode !== "json") return;
    const st = this.#state(s);
    st.again = true;
    if (st.running) return;
    st.running = true;
    this.#loop(s, st).catch((e) => this.api.log.error(`delivery to ${s.name}: ${e}`))
      .finally(() => (st.running = false));
  }

  async #loop(s: Session, st: State) {
    while (st.again && this.api.sessions.get(s.name!) === s) {
      st.again = false;
      for (const f of await this.store.pendingFor(s.name!)) {
        if (st.tried?.has(f.id) || this.api.sessions.get(s.name!) !== s) continue;
        (st.tried ??= new Set()).add(f.id);
        const d = new Delivery(this.flows, s, f, st.since);
        let ok: boolean | undefined;
        try {
          ok = await d.run(this.store);
        } catch (e) {
          this.api.log.error(`delivery of kept file ${f.id} to ${s.name}: ${e}`);
          this.flows.cancelled(d.id, [s], "the server could not read the file");
        } finally {
          this.flows.remove(d);
        }
        if (ok === undefined) continue; // stopped: sent again at the next login
        await this.store.done(f.id, s.name!);
        const verified = { file: d.id, name: f.name, by: s.name!, ok };
        const sender = this.api.sessions.get(f.sender);
        if (sender) this.api.send(sender, FileVerified, verified);
        const node = this.api.sessions.remoteNode(f.sender);
        if (node !== undefined) {
          this.api.bus.publish("verified", { to: f.sender, ...verified }, node);
        }
      }
    }
  }
}
