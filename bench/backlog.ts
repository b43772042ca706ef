/**
 * The backlog workload: how long a user who was away takes to receive N missed messages.
 * A receiver account is created (one login, then session.quit), a sender sends it N direct
 * messages through a window of unacknowledged requests (each must be acked "stored": the
 * receiver is offline), then the receiver logs in again and we time the catch-up from the
 * login request to the last of the N messages, checking order, duplicates and gaps.
 */
import type { Options } from "./args.ts";
import { BacklogReceiver, BacklogSender } from "./backlog_peer.ts";
import { ErrorTally, Peer, runTag, serverTarget } from "./peer.ts";
import { type ProcSample, sample, selfCpuSeconds } from "./proc.ts";
import { count, fixed, mib, type Result, round } from "./report.ts";
import { Stopper } from "./wait.ts";

/** The catch-up arrives as a stream of full reads: a large buffer means fewer of them. */
const READ_BUFFER_BYTES = 64 * 1024;

type Phase = "account" | "sending" | "catching up" | "done";

export class BacklogBench {
  readonly errors = new ErrorTally();
  readonly stopper = new Stopper();
  sender: BacklogSender | undefined;
  receiver: BacklogReceiver | undefined;
  #phase: Phase = "account";
  /** Server samples: sending starts, sending ends (= catch-up starts), catch-up ends. */
  #s0: ProcSample | undefined;
  #s1: ProcSample | undefined;
  #s2: ProcSample | undefined;
  #t0: number | undefined;
  #t1: number | undefined;
  #benchCpu: number[] = [];

  constructor(readonly o: Options) {}

  async run(signal: AbortSignal): Promise<void> {
    const { o, errors, stopper } = this;
    const tag = runTag();
    const rName = `b${tag}-r`;
    const sName = `b${tag}-s`;
    const target = await serverTarget(o, signal, READ_BUFFER_BYTES);
    const step = async (what: string, f: () => Promise<void>) => {
      try {
        await f();
      } catch (e) {
        stopper.stop(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
      return !stopper.stopped;
    };

    // The account must exist to be messaged; quitting waits until the server has let go of
    // the name, so every message below finds the receiver offline.
    const account = new Peer(rName, errors, stopper.stop);
    if (!await step("receiver's first login", () => account.open(target))) return;
    if (!await step("receiver's quit", () => stopper.until(account.quit()))) return;

    const sender = this.sender = new BacklogSender(
      sName,
      errors,
      stopper.stop,
      rName,
      o.messages,
      o.window,
      o.textBytes,
    );
    if (!await step("sender's login", () => sender.open(target))) return;
    this.#phase = "sending";
    this.#s0 = await sample(o.pids);
    this.#benchCpu.push(selfCpuSeconds());
    this.#t0 = performance.now();
    void sender.pump();
    await stopper.until(sender.settled);
    this.#t1 = performance.now();
    this.#benchCpu.push(selfCpuSeconds());
    // Gone before the catch-up, so that only the catch-up is measured.
    sender.client?.close();
    if (stopper.stopped) return;
    if (sender.seqs.length === 0) return stopper.stop("the server accepted none of the messages");

    const receiver = this.receiver = new BacklogReceiver(
      rName,
      errors,
      stopper.stop,
      sName,
      o.textBytes,
    );
    receiver.expected = [...sender.seqs].sort((a, b) => a - b);
    this.#phase = "catching up";
    this.#s1 = await sample(o.pids);
    if (!await step("receiver's second login", () => receiver.open(target))) return;
    await stopper.until(receiver.all);
    this.#benchCpu.push(selfCpuSeconds());
    this.#s2 = await sample(o.pids);
    if (!stopper.stopped) this.#phase = "done";
  }

  close(): void {
    this.sender?.client?.close();
    this.receiver?.client?.close();
  }

  /** The report so far; called once at the end, or early when the deadline cuts the run. */
  async result(failure: string | undefined): Promise<Result> {
    const { o, sender: snd, receiver: rcv } = this;
    const last = this.#s2 ?? (this.#s0 ? await sample(o.pids) : undefined);
    const benchNow = selfCpuSeconds();
    const now = performance.now();
    const sendSecs = this.#t0 === undefined ? undefined : ((this.#t1 ?? now) - this.#t0) / 1000;
    const sendCpu = diff(this.#s0?.cpu, (this.#s1 ?? last)?.cpu);
    const catchCpu = diff(this.#s1?.cpu, last?.cpu);
    const benchCpu = diff(this.#benchCpu[0], this.#benchCpu[2] ?? benchNow);
    const since = (t: number | undefined) =>
      t === undefined || rcv?.loginSentAt === undefined ? undefined : t - rcv.loginSentAt;
    const loginMs = since(rcv?.loginAckAt);
    const summaryMs = since(rcv?.summaryAt);
    const firstMs = since(rcv?.firstAt);
    const allMs = since(rcv?.allAt);
    const lastMs = since(rcv?.lastAt);
    const accepted = rcv?.expected.length ?? snd?.seqs.length;
    const perSec = allMs ? rcv!.matched / (allMs / 1000) : undefined;
    const notStored = snd ? snd.acked - snd.stored : undefined;
    const summaryOk = rcv?.summaries === 1 && rcv.summaryCount === accepted;
    const codes = Object.entries(this.errors.codes).map(([c, n]) => `${c} x${n}`).join(", ");
    const why = failure ?? this.stopper.reason ?? this.#faults(notStored, summaryOk);
    return {
      title: `backlog: ${o.messages} missed messages, window ${o.window}, ` +
        `text ${o.textBytes} bytes, ${o.host}:${o.port}`,
      complete: why === undefined && this.#phase === "done",
      failure: why ?? (this.#phase === "done" ? undefined : `stopped while ${this.#phase}`),
      lines: [
        [
          "messages",
          `${count(snd?.sent)} sent, ${count(snd?.stored)} acked "stored", ` +
          `${count(notStored)} acked "sent", ${count(snd?.refused)} refused`,
        ],
        [
          "bytes",
          `${count(snd && snd.acked * o.textBytes, "bytes")} of text; ` +
          `${count(rcv?.wireBytes, "bytes")} of dm.message frames in the catch-up`,
        ],
        [
          "sending",
          `${fixed(sendSecs, 2, "s")}  (${
            count(sendSecs && (snd?.acked ?? 0) / sendSecs, "msg/s")
          }` +
          ` stored, server CPU ${fixed(sendCpu, 2, "s")})`,
        ],
        ["login ack", `${fixed(loginMs, 1, "ms")}  (after the login request)`],
        [
          "offline.summary",
          `${count(rcv?.summaries)} frame(s), count ${count(rcv?.summaryCount)}` +
          `${summaryOk ? " = messages" : ` (expected 1 frame, count ${count(accepted)})`}` +
          `, at ${fixed(summaryMs, 1, "ms")}`,
        ],
        ["first message", fixed(firstMs, 1, "ms")],
        [
          "all messages",
          `${fixed(allMs, 1, "ms")}  (${count(rcv?.matched)} of ${count(accepted)}; ` +
          `the last frame at ${fixed(lastMs, 1, "ms")})`,
        ],
        ["catch-up rate", count(perSec, "msg/s")],
        [
          "order",
          `${count(rcv?.outOfOrder)} out of order or repeated, ${count(rcv?.missing)} missing, ` +
          `${count(rcv?.unexpected)} unexpected, ${count(rcv?.notMissed)} not replay "missed"`,
        ],
        ["server CPU", `${fixed(catchCpu, 2, "s")}  (from the receiver's connect to the end)`],
        ["bench CPU", `${fixed(benchCpu, 2, "s")}  (this load generator, sending and catch-up)`],
        [
          "server RSS",
          `${mib(this.#s0?.rssKiB)} at start, ${mib(this.#s1?.rssKiB)} after sending, ` +
          `${mib(last?.rssKiB)} at the end`,
        ],
        ["errors", `${this.errors.total}${codes ? `  (${codes})` : ""}`],
      ],
      json: {
        workload: "backlog",
        messages: o.messages,
        window: o.window,
        textBytes: o.textBytes,
        sent: snd?.sent,
        acked: snd?.acked,
        stored: snd?.stored,
        refused: snd?.refused,
        textBytesTotal: snd && snd.acked * o.textBytes,
        wireBytes: rcv?.wireBytes,
        sendSeconds: round(sendSecs, 3),
        storedPerSec: round(sendSecs && (snd?.stored ?? 0) / sendSecs),
        sendServerCpuSeconds: round(sendCpu, 2),
        loginAckMs: round(loginMs, 1),
        summaryFrames: rcv?.summaries,
        summaryCount: rcv?.summaryCount,
        summaryMatches: rcv ? summaryOk : undefined,
        summaryFirst: rcv?.summaryFirst,
        summaryMs: round(summaryMs, 1),
        firstMessageMs: round(firstMs, 1),
        allMessagesMs: round(allMs, 1),
        lastFrameMs: round(lastMs, 1),
        catchUpPerSec: round(perSec),
        received: rcv?.received,
        matched: rcv?.matched,
        outOfOrder: rcv?.outOfOrder,
        missing: rcv?.missing,
        unexpected: rcv?.unexpected,
        notMissed: rcv?.notMissed,
        catchUpServerCpuSeconds: round(catchCpu, 2),
        benchCpuSeconds: round(benchCpu, 2),
        rssStartKiB: this.#s0?.rssKiB,
        rssAfterSendKiB: this.#s1?.rssKiB,
        rssEndKiB: last?.rssKiB,
        errors: this.errors.total,
        errorCodes: this.errors.codes,
      },
    };
  }

  /** What makes a finished run wrong even though nothing stopped it. */
  #faults(notStored: number | undefined, summaryOk: boolean): string | undefined {
    const rcv = this.receiver;
    if (this.#phase !== "done" || !rcv) return undefined;
    const out: string[] = [];
    if (this.errors.total) out.push(`${this.errors.total} errors`);
    if (notStored) out.push(`${notStored} acks said "sent" to an offline receiver`);
    if (!summaryOk) out.push(`offline.summary did not announce ${rcv.expected.length}`);
    if (rcv.summaryFirst === false) out.push("offline.summary came after a message");
    if (rcv.outOfOrder) out.push(`${rcv.outOfOrder} messages out of order or repeated`);
    if (rcv.unexpected) out.push(`${rcv.unexpected} unexpected messages`);
    if (rcv.notMissed) out.push(`${rcv.notMissed} messages not marked replay "missed"`);
    return out.length ? out.join("; ") : undefined;
  }
}

function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}
