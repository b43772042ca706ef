/**
 * The dm workload: P pairs of users message each other as fast as a window of W unacknowledged
 * requests per sender allows, for D seconds; then sending stops and in-flight deliveries get a
 * bounded drain. Rates count what happened inside the sending window; losses and latency
 * count everything up to the end of the drain.
 */
import type { Options } from "./args.ts";
import { DmPeer } from "./dm_peer.ts";
import { ErrorTally, openAll, runTag, serverTarget } from "./peer.ts";
import { sample, selfCpuSeconds } from "./proc.ts";
import { count, fixed, mib, type Result, round } from "./report.ts";
import { LatencyHistogram } from "./stats.ts";
import { Stopper } from "./wait.ts";

/** Poll interval while draining: short against the drain bound, long against a frame. */
const DRAIN_POLL_MS = 10;

export class DmBench {
  readonly errors = new ErrorTally();
  readonly latency = new LatencyHistogram();
  readonly stopper = new Stopper();
  peers: DmPeer[] = [];
  #phase: "connecting" | "sending" | "draining" | "done" = "connecting";
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

  async run(signal: AbortSignal): Promise<void> {
    const { o } = this;
    const tag = runTag();
    for (let i = 0; i < 2 * o.pairs; i++) {
      this.peers.push(
        new DmPeer(
          `b${tag}-${i}`,
          this.errors,
          this.stopper.stop,
          o.window,
          o.textBytes,
          this.latency,
        ),
      );
    }
    for (let i = 0; i < this.peers.length; i += 2) {
      this.peers[i].pairWith(this.peers[i + 1]);
      this.peers[i + 1].pairWith(this.peers[i]);
    }
    const target = await serverTarget(o, signal, 64 * 1024);
    const { failed, firstError } = await openAll(this.peers, target, o.concurrency);
    if (failed > 0) {
      this.stopper.stop(
        `${failed} of ${this.peers.length} clients failed to log in: ${firstError}`,
      );
    }
    if (this.stopper.stopped) return;

    const s0 = await sample(o.pid);
    this.#rss0 = s0.rssKiB;
    this.#cpu0 = s0.cpu;
    this.#benchCpu0 = selfCpuSeconds();
    this.#t0 = performance.now();
    this.#phase = "sending";
    for (const p of this.peers) {
      p.sending = true;
      void p.pump();
    }
    await this.stopper.pause(o.seconds * 1000);
    for (const p of this.peers) p.sending = false;
    this.#t1 = performance.now();
    this.#benchCpu1 = selfCpuSeconds();
    this.#ackedInWindow = this.#sum((p) => p.acked);
    this.#deliveredInWindow = this.#sum((p) => p.delivered);
    this.#cpu1 = (await sample(o.pid)).cpu;

    this.#phase = "draining";
    const drainEnd = performance.now() + o.drain * 1000;
    while (!this.stopper.stopped && !this.#settled() && performance.now() < drainEnd) {
      await this.stopper.pause(DRAIN_POLL_MS);
    }
    this.#drainSeconds = (performance.now() - this.#t1) / 1000;
    this.#rss1 = (await sample(o.pid)).rssKiB;
    this.#phase = "done";
  }

  /** Every request answered and every acked message delivered. */
  #settled(): boolean {
    return this.peers.every((p) => p.inflight === 0 && p.partner!.delivered >= p.acked);
  }

  #sum(f: (p: DmPeer) => number): number {
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
      ? await sample(o.pid)
      : undefined;
    const t1 = this.#t1 ?? now;
    const secs = this.#t0 === undefined ? undefined : (t1 - this.#t0) / 1000;
    const acked = this.#ackedInWindow ?? this.#sum((p) => p.acked);
    const delivered = this.#deliveredInWindow ?? this.#sum((p) => p.delivered);
    const cpu1 = this.#cpu1 ?? s?.cpu;
    const cpu = this.#cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - this.#cpu0;
    const benchCpu1 = this.#benchCpu1 ?? selfCpuSeconds();
    const benchCpu = this.#benchCpu0 === undefined || benchCpu1 === undefined
      ? undefined
      : benchCpu1 - this.#benchCpu0;
    const rss1 = this.#rss1 ?? s?.rssKiB;
    const losses = this.#phase === "connecting"
      ? undefined
      : this.#sum((p) => Math.max(0, p.acked - p.partner!.delivered));
    const perSec = (n: number) => (secs ? n / secs : undefined);
    const perCpu = cpu ? delivered / cpu : undefined;
    const p50 = ms(this.latency.quantile(0.5));
    const p99 = ms(this.latency.quantile(0.99));
    const codes = Object.entries(this.errors.codes).map(([c, n]) => `${c} x${n}`).join(", ");
    const why = failure ?? this.stopper.reason;
    return {
      title: `dm: ${o.pairs} pairs (${2 * o.pairs} connections), window ${o.window}, ` +
        `${o.seconds} s, text ${o.textBytes} bytes, ${o.host}:${o.port}`,
      complete: why === undefined && this.#phase === "done",
      failure: why ?? (this.#phase === "done" ? undefined : `stopped while ${this.#phase}`),
      lines: [
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
        workload: "dm",
        pairs: o.pairs,
        connections: 2 * o.pairs,
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
        requestsWritten: this.#sum((p) => p.sent),
        ackedTotal: this.#sum((p) => p.acked),
        deliveredTotal: this.#sum((p) => p.delivered),
        drainSeconds: round(this.#drainSeconds, 3),
      },
    };
  }
}

function ms(us: number | undefined): number | undefined {
  return us === undefined ? undefined : us / 1000;
}
