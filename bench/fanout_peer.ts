/**
 * The fanout workload's client: a member of the benchmark room. Every member counts and times
 * the room posts it receives; a sender also posts groups.send while fewer than `window` of its
 * requests are unacknowledged (see WindowPeer).
 */
import { type FrameKind, parseLine } from "./client.ts";
import { indexOf, readUint, startsWith } from "./lines.ts";
import type { ErrorTally } from "./peer.ts";
import type { LatencyHistogram } from "./stats.ts";
import { WindowPeer } from "./window_peer.ts";

const enc = new TextEncoder();
const TEXT_KEY = enc.encode('"text":"');
const JOINED = enc.encode('{"type":"groups.joined"');

type Answer = Record<string, unknown>;

export class FanoutPeer extends WindowPeer {
  /** groups.joined notices seen: the workload waits for them before measuring. */
  joinedNotices = 0;
  /** What the server sends for a post to our room, up to the sender's name. */
  readonly #postPrefix: Uint8Array;
  /** The answer to a setup request (create or join), while one is outstanding. */
  #setup: ((f: Answer) => void) | undefined;

  constructor(
    name: string,
    errors: ErrorTally,
    onLost: (reason: string) => void,
    readonly room: string,
    window: number,
    textBytes: number,
    latency: LatencyHistogram,
  ) {
    super(name, errors, onLost, window, textBytes, latency);
    this.#postPrefix = enc.encode(`{"type":"groups.message","room":"${room}","sender":"`);
    this.target("groups.send", `","room":"${room}","text":"`);
  }

  /** Sends a create or join and resolves with its answer (ack or error). */
  async setup(type: "groups.create" | "groups.join"): Promise<Answer> {
    const answer = new Promise<Answer>((resolve) => (this.#setup = resolve));
    const line = JSON.stringify({ type, id: "setup", room: this.room }) + "\n";
    if (!(await this.client!.write(enc.encode(line)))) return { type: "error", code: "closed" };
    return await answer;
  }

  protected override frame(kind: FrameKind, buf: Uint8Array, start: number, end: number): void {
    if (kind === "other" && startsWith(buf, start, end, this.#postPrefix)) {
      const at = indexOf(buf, start + this.#postPrefix.length, end, TEXT_KEY);
      this.received(at < 0 ? -1 : readUint(buf, at + TEXT_KEY.length, end));
    } else if (kind === "ack" && this.loggedIn) {
      const f = this.#setup && parseLine(buf, start, end);
      if (f) this.parsed(f);
      else this.answered(true);
    } else if (kind === "other" && startsWith(buf, start, end, JOINED)) {
      this.joinedNotices++;
    } else {
      super.frame(kind, buf, start, end);
    }
  }

  protected override parsed(f: Answer): void {
    if (this.#setup && f.re === "setup") {
      const resolve = this.#setup;
      this.#setup = undefined;
      return resolve(f);
    }
    // An answer to a groups.send: it frees a window slot whether it is an ack or an error.
    if (this.loggedIn && f.re !== undefined) this.answered(f.type === "ack");
    super.parsed(f);
  }
}
