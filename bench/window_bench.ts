/**
 * A windowed workload (dm, fanout): peers log in, get ready (a workload-specific setup), then
 * the senders send as fast as their window allows for --seconds; then sending stops and
 * in-flight deliveries get a bounded drain. Rates count what happened inside the sending
 * window; losses and latency count everything up to the end of the drain.
 */
import type { Options } from "./args.ts";
import { ErrorTally, openAll, serverTarget } from "./peer.ts";
import { sample, selfCpuSeconds } from "./proc.ts";
import { count, type Figure, fixed, mib, type Result, round } from "./report.ts";
import { LatencyHistogram } from "./stats.ts";
import { Stopper } from "./wait.ts";
import type { WindowPeer } from "./window_peer.ts";

/** Poll interval while draining: short against the drain bound, long against a frame. */
const DRAIN_POLL_MS = 10;
/** Bytes each peer reads at a time. */
const READ_BUFFER_BYTES = 64 * 1024;

export abstract class WindowBench<P extends WindowPeer> {
  readonly errors = new ErrorTally();
  readonly latency = new LatencyHistogram();
  readonly stopper = new Stopper();
  peers: P[] = [];
  phase: "connecting" | "preparing" | "sending" | "draining" | "done" = "connecting";
  #t0: number | undefined;
  #t1: number | undefined;
  #drainSeconds: number | undefined;
  #cpu0: number | undefined;
  #cpu1: number | undefined;
  #benchCpu0: number | undefined;
  #benchCpu1: number | undefined;
  #rss0: number | undefined;
  #rss1: number | undefined;
  /** Acks and deliveries counted when the sending window closed. */
  #ackedInWindow: number | undefined;
  #deliveredInWindow: number | undefined;

  constructor(readonly o: Options) {}

  /** The workload's peers, not yet connected. */
  protected abstract makePeers(): P[];
  /** After every peer logged in, before measuring (e.g. create and join a room). */
  protected prepare(_signal: AbortSignal): Promise<void> {
    return Promise.resolve();
  }
  /** The peers that send. */
  protected abstract senders(): P[];
  /** Deliveries that the acked requests so far must produce. */
  protected abstract expected(): number;
  /** Title, extra lines and JSON figures of this workload. */
  protected abstract describe(): {
    title: string;
    lines: [string, string][];
    json: Record<string, Figure>;
  };

  async run(signal: AbortSignal): Promise<void> {
    const { o } = this;
    this.peers = this.makePeers();
    if (o.txn) {
      for (const p of this.senders()) p.useTxn();
    }
    const target = await serverTarget(o, signal, READ_BUFFER_BYTES);
    const { failed, firstError } = await openAll(this.peers, target, o.concurrency);
    if (failed > 0) {
      this.stopper.stop(
        `${failed} of ${this.peers.length} clients failed to log in: ${firstError}`,
      );
    }
    if (this.stopper.stopped) return;
    this.phase = "preparing";
    await this.prepare(signal);
    if (this.stopper.stopped) return;

    const s0 = await sample(o.pids);
    this.#rss0 = s0.rssKiB;
    this.#cpu0 = s0.cpu;
    this.#benchCpu0 = selfCpuSeconds();
    this.#t0 = performance.now();
    this.phase = "sending";
    for (const p of this.senders()) {
      p.sending = true;
      void p.pump();
    }
    await this.stopper.pause(o.seconds * 1000);
    for (const p of this.peers) p.sending = false;
    this.#t1 = performance.now();
    this.#benchCpu1 = selfCpuSeconds();
    this.#ackedInWindow = this.sum((p) => p.acked);
    this.#deliveredInWindow = this.sum((p) => p.delivered);
    this.#cpu1 = (await sample(o.pids)).cpu;

    this.phase = "draining";
    const drainEnd = performance.now() + o.drain * 1000;
    while (!this.stopper.stopped && !this.#settled() && performance.now() < drainEnd) {
      await this.stopper.pause(DRAIN_POLL_MS);
    }
    this.#drainSeconds = (performance.now() - this.#t1) / 1000;
    this.#rss1 = (await sample(o.pids)).rssKiB;
    this.phase = "done";
  }

  /** Every request answered and every acked message delivered. */
  #settled(): boolean {
    return this.peers.every((p) => p.inflight === 0) &&
      this.sum((p) => p.delivered) >= this.expected();
  }

  sum(f: (p: P) => number): number {
    let n = 0;
    for (const p of this.peers) n += f(p);
    return n;
  }

  close(): void {
    for (const p of this.peers) p.client?.close();
  }

  /** The report so far; called once at the end, or early when the deadline cuts the run. */
  async result(failure: string | undefined): Promise<Result> {
    const { o } = this;
    const now = performance.now();
    const s = this.#cpu1 === undefined || this.#rss1 === undefined
      ? await sample(o.pids)
      : undefined;
    const t1 = this.#t1 ?? now;
    const secs = this.#t0 === undefined ? undefined : (t1 - this.#t0) / 1000;
    const acked = this.#ackedInWindow ?? this.sum((p) => p.acked);
    const delivered = this.#deliveredInWindow ?? this.sum((p) => p.delivered);
    const cpu1 = this.#cpu1 ?? s?.cpu;
    const cpu = this.#cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - this.#cpu0;
    const benchCpu1 = this.#benchCpu1 ?? selfCpuSeconds();
    const benchCpu = this.#benchCpu0 === undefined || benchCpu1 === undefined
      ? undefined
      : benchCpu1 - this.#benchCpu0;
    const rss1 = this.#rss1 ?? s?.rssKiB;
    const losses = this.phase === "connecting" || this.phase === "preparing"
      ? undefined
      : Math.max(0, this.expected() - this.sum((p) => p.delivered));
    const perSec = (n: number) => (secs ? n / secs : undefined);
    const perCpu = cpu ? delivered / cpu : undefined;
    const p50 = ms(this.latency.quantile(0.5));
    const p99 = ms(this.latency.quantile(0.99));
    const codes = Object.entries(this.errors.codes).map(([c, n]) => `${c} x${n}`).join(", ");
    const why = failure ?? this.stopper.reason;
    const w = this.describe();
    return {
      title: w.title,
      complete: why === undefined && this.phase === "done",
      failure: why ?? (this.phase === "done" ? undefined : `stopped while ${this.phase}`),
      lines: [
        ...w.lines,
        ["transaction ids", o.txn ? "a txn on every send (--txn)" : "none"],
        ["sending window", fixed(secs, 2, "s")],
        ["sent (acked)", `${count(perSec(acked), "msg/s")}  (${count(acked)} acked in window)`],
        ["delivered", `${count(perSec(delivered), "msg/s")}  (${count(delivered)} in window)`],
        ["deliveries/server CPU-s", count(perCpu)],
        [
          "server CPU",
          `${fixed(cpu, 2, "s")}  (${fixed(cpu && secs && 100 * cpu / secs, 0, "%")})`,
        ],
        ["bench CPU", `${fixed(benchCpu, 2, "s")}  (this load generator, same window)`],
        ["latency p50 / p99", `${fixed(p50, 2)} / ${fixed(p99, 2, "ms")}`],
        ["losses", `${count(losses)}  (acked, not delivered by the end)`],
        ["errors", `${this.errors.total}${codes ? `  (${codes})` : ""}`],
        ["server RSS", `${mib(this.#rss0)} at start, ${mib(rss1)} at end`],
        ["drain", fixed(this.#drainSeconds, 2, "s")],
      ],
      json: {
        ...w.json,
        txn: o.txn,
        window: o.window,
        seconds: round(secs, 3),
        textBytes: o.textBytes,
        sentPerSec: round(perSec(acked)),
        deliveredPerSec: round(perSec(delivered)),
        deliveriesPerCpuSecond: round(perCpu),
        serverCpuSeconds: round(cpu, 2),
        benchCpuSeconds: round(benchCpu, 2),
        latencyP50Ms: round(p50, 3),
        latencyP99Ms: round(p99, 3),
        losses,
        errors: this.errors.total,
        errorCodes: this.errors.codes,
        rssStartKiB: this.#rss0,
        rssEndKiB: rss1,
        requestsWritten: this.sum((p) => p.sent),
        ackedTotal: this.sum((p) => p.acked),
        deliveredTotal: this.sum((p) => p.delivered),
        drainSeconds: round(this.#drainSeconds, 3),
      },
    };
  }
}

function ms(us: number | undefined): number | undefined {
  return us === undefined ? undefined : us / 1000;
}
