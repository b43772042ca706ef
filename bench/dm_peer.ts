/**
 * The dm workload's client: sends dm.send to its partner while fewer than `window` requests
 * are unacknowledged, and times every dm.message it receives (see WindowPeer).
 */
import type { FrameKind } from "./client.ts";
import { readUint, startsWith } from "./lines.ts";
import { WindowPeer } from "./window_peer.ts";

const enc = new TextEncoder();

export class DmPeer extends WindowPeer {
  partner: DmPeer | undefined;
  #dmPrefix = new Uint8Array(0);

  pairWith(p: DmPeer): void {
    this.partner = p;
    // What the server sends us, up to the first byte of the text (its key order is fixed).
    this.#dmPrefix = enc.encode(
      `{"type":"dm.message","sender":"${p.name}","receiver":"${this.name}","text":"`,
    );
    this.target("dm.send", `","receiver":"${p.name}","text":"`);
  }

  protected override frame(kind: FrameKind, buf: Uint8Array, start: number, end: number): void {
    if (kind === "dm" && startsWith(buf, start, end, this.#dmPrefix)) {
      this.received(readUint(buf, start + this.#dmPrefix.length, end));
    } else if (kind === "ack" && this.loggedIn) {
      this.answered(true);
    } else {
      super.frame(kind, buf, start, end);
    }
  }

  protected override parsed(f: Record<string, unknown>): void {
    if (f.type === "dm.message" && typeof f.text === "string") {
      const t = parseInt(f.text, 10);
      this.received(Number.isFinite(t) ? t : -1);
      return;
    }
    // An answer to a dm.send: it frees a window slot whether it is an ack or an error.
    if (this.loggedIn && f.re !== undefined) this.answered(f.type === "ack");
    super.parsed(f);
  }
}
