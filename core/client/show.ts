/**
 * Shows pushed frames, one after another in arrival order, each by the plugin that owns its
 * type, after the plugins' incoming intercepts (decryption). Frames from the message log carry
 * a `seq`: delivery is at-least-once on the wire (a reconnect replays from the last
 * acknowledged seq), so a seq at or below the highest one shown is a duplicate and is dropped;
 * what was shown is acknowledged (session.ack), coalesced to one ack per burst.
 */
import { ErrorFrame, loggedFields } from "../../protocol/core.ts";
import { ChatError } from "../../protocol/errors.ts";
import { NAME_PATTERN } from "../../protocol/limits.ts";
import { TrustError } from "./tls.ts";
import type { RawFrame } from "../../protocol/spec.ts";
import type { ClientCtx, Replayed, Ui } from "../../plugins/types.ts";
import type { ClientRegistry } from "./registry.ts";

export class FrameShow {
  /** The chain every frame is shown on; also what ClientCtx.settled waits for. */
  #shown: Promise<void> = Promise.resolve();
  /** Highest seq shown (the duplicate watermark), and highest acknowledged. */
  #lastSeq = 0;
  #acked = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly registry: ClientRegistry,
    private readonly ui: Ui,
    /** The context intercepts get (its requests bypass the outgoing intercepts). */
    private readonly direct: ClientCtx,
    private readonly sendAck: (upTo: number) => void,
  ) {}

  /** Queues a frame to be shown after every frame before it (and after `gate`, if given). */
  push(frame: RawFrame): void {
    this.#shown = this.#shown.then(() => this.#show(frame));
  }

  /** Holds everything pushed from now on until `gate` resolves (a login in progress). */
  hold(gate: Promise<unknown>): void {
    this.#shown = this.#shown.then(() => gate).then(() => {}, () => {});
  }

  /** Resolves once every frame pushed so far has been shown. */
  settled(): Promise<void> {
    return this.#shown;
  }

  /** Sends the pending acknowledgement now (before quitting). */
  flushAck(): void {
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    if (this.#lastSeq > this.#acked) {
      this.#acked = this.#lastSeq;
      this.sendAck(this.#acked);
    }
  }

  async #show(frame: RawFrame) {
    const { ui } = this;
    try {
      if (frame.type === "error") {
        const e = ErrorFrame.decode(frame);
        // A code this client does not know (a newer server's) is shown as sent, if it is one.
        return ui.error(e.code, e.message);
      }
      if (frame.type === "session.closing") return; // reported when the connection closes
      const show = this.registry.shows.get(frame.type);
      if (!show) return; // unknown types: a newer server
      const logged = loggedFields(frame);
      const fresh = logged.seq !== undefined && logged.replay !== "history";
      if (fresh && logged.seq! <= this.#lastSeq) return; // shown already
      for (const fn of this.registry.intercepts.get(frame.type)?.in ?? []) {
        frame = { ...frame, ...await fn(show.decode(frame), this.direct) as object };
      }
      await show.show(
        frame,
        logged.replay
          ? prefixed(ui, this.#replayMark({ replay: logged.replay, ts: logged.ts }))
          : ui,
        this.direct,
      );
      if (fresh) this.#shownSeq(logged.seq!);
    } catch (e) {
      // An error frame or a message that could not be opened is still shown (as an error) and
      // so still counts as shown: acknowledging it keeps it from coming back forever.
      const seq = frame.seq;
      if (typeof seq === "number" && frame.replay !== "history" && seq > this.#lastSeq) {
        this.#shownSeq(seq);
      }
      this.report(whose(frame, e));
    }
  }

  /** A replayed frame is marked as the log's plugin says (ClientApi.replayed), if one does. */
  #replayMark(m: Replayed): string {
    return this.registry.replayed?.fn(m, this.ui) ?? "";
  }

  #shownSeq(seq: number) {
    this.#lastSeq = seq;
    this.#ackTimer ??= setTimeout(() => this.flushAck(), 0);
  }

  report(e: unknown) {
    // The server's text is one line: a newline in it is shown as a control character.
    if (e instanceof ChatError) {
      return this.ui.error(e.code, e.message || this.registry.errors.text(e.code));
    }
    // Our own may span lines (a changed server key): each is cleaned and shown on its own.
    const code = e instanceof TrustError ? e.code : "CLIENT";
    const [first, ...more] = (e instanceof Error ? e.message : String(e)).split("\n");
    this.ui.error(code, first);
    for (const line of more) this.ui.line(line);
  }
}

/** A frame refused as malformed names its sender (the protocol's `sender` field), if it has
 *  one that reads as a name: the person should know whose message did not arrive. */
function whose(frame: RawFrame, e: unknown): unknown {
  const sender = frame.sender;
  if (!(e instanceof ChatError) || e.code !== "BAD_FRAME") return e;
  if (typeof sender !== "string" || !NAME_PATTERN.test(sender)) return e;
  return new ChatError(e.code, `a message from ${sender} was refused: ${e.message}`);
}

/** `YYYY-MM-DD HH:MM` in the computer's time zone ("unknown time" past what a Date holds). */
export function localTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "unknown time";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }`;
}

function prefixed(ui: Ui, prefix: string): Ui {
  return {
    ...ui,
    line: (t) => ui.line(prefix + t),
    notice: (t) => ui.notice(prefix + t),
  };
}
