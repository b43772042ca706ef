/**
 * The soak workload: N users on a server for a long time at a human pace (see SoakPeer for
 * what each does), to see whether the server's memory and CPU stay flat and whether every
 * acked message reaches its recipient across thousands of logins and departures.
 *
 * Phases: every client logs in (a new account each) and joins two of the --rooms rooms; the
 * traffic runs for --seconds while the server's RSS and CPU are sampled every 5 s; then
 * everyone away logs back in and the drain waits (at most --drain s) until every delivery an
 * ack promised has arrived. The reference RSS is the sample at --warmup: by then the caches,
 * pools and JIT have settled, and growth from there to the end is what a leak looks like.
 */
import type { Options } from "./args.ts";
import { keepalive } from "./client.ts";
import { type ConnectTarget, ErrorTally, runTag, serverTarget } from "./peer.ts";
import { sample, selfCpuSeconds } from "./proc.ts";
import type { Result } from "./report.ts";
import { Rng } from "./rng.ts";
import { Ledger, SoakCounts } from "./soak_ledger.ts";
import { SoakPeer, type SoakWorld } from "./soak_peer.ts";
import { type Point, SAMPLE_EVERY_S, type SoakPhase, soakResult } from "./soak_report.ts";
import { LatencyHistogram } from "./stats.ts";
import { Stopper } from "./wait.ts";

/** Clients read little at a time (a presence.who answer is the largest frame). */
const READ_BUFFER_BYTES = 16 * 1024;
const DRAIN_POLL_MS = 50;

export class SoakBench implements SoakWorld {
  readonly errors = new ErrorTally();
  readonly stopper = new Stopper();
  readonly traffic = new Stopper();
  readonly ledger = new Ledger();
  readonly counts = new SoakCounts();
  readonly delivery = new LatencyHistogram();
  readonly answer = new LatencyHistogram();
  readonly login = new LatencyHistogram();
  readonly relogin = new LatencyHistogram();
  peers: SoakPeer[] = [];
  target: ConnectTarget = { hostname: "", port: 0, readBufferBytes: READ_BUFFER_BYTES };
  phase: SoakPhase = "connecting";
  #closing = false;
  #firstDrop: string | undefined;
  #rss0: number | undefined;
  #t0: number | undefined;
  #tEnd: number | undefined;
  #points: Point[] = [];
  #start: Point | undefined;
  #warm: Point | undefined;
  #end: Point | undefined;
  #drained: Point | undefined;
  #setupSeconds: number | undefined;
  #drainSeconds: number | undefined;
  #benchCpu0: number | undefined;
  #benchCpu1: number | undefined;
  #pings0 = 0;

  constructor(readonly o: Options) {}

  get textBytes(): number {
    return this.o.textBytes;
  }

  get failed(): boolean {
    return this.stopper.stopped || this.#closing;
  }

  /** Ends the run: the reason is reported and every wait is cut short. */
  fail = (reason: string): void => {
    this.stopper.stop(reason);
    this.traffic.stop(reason);
  };

  dropped(reason: string): void {
    this.#firstDrop ??= reason;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { o } = this;
    this.#rss0 = (await sample(o.pids)).rssKiB;
    this.target = await serverTarget(o, signal, READ_BUFFER_BYTES);
    const tag = runTag();
    const width = Math.max(4, String(o.clients).length);
    for (let i = 0; i < o.clients; i++) {
      const name = `soak-${tag}-${String(i + 1).padStart(width, "0")}`;
      this.peers.push(new SoakPeer(i, name, new Rng(o.seed, i), this));
    }
    // Client i is in room i mod R (so client k < R creates room k) and in one other, drawn.
    const rooms = Array.from({ length: o.rooms }, (_, k) => `soak-${tag}-r${k + 1}`);
    const draw = new Rng(o.seed, -1);
    for (const p of this.peers) {
      const first = p.index % o.rooms;
      p.rooms = [rooms[first]];
      if (o.rooms > 1) p.rooms.push(rooms[(first + 1 + draw.int(o.rooms - 1)) % o.rooms]);
    }

    const t = performance.now();
    const login = await this.#each(this.peers, (p) => p.connect("password"));
    this.counts.logins = o.clients - login.failed;
    if (login.failed > 0) {
      return this.fail(
        `${login.failed} of ${o.clients} clients failed to log in: ${login.firstError}`,
      );
    }
    this.phase = "joining";
    const setup = async (p: SoakPeer, type: "groups.create" | "groups.join", room: string) => {
      const r = await p.setup(type, room);
      if (r.type !== "ack") throw new Error(`${p.name}: ${type} ${room}: ${r.code}`);
    };
    const creators = this.peers.slice(0, o.rooms);
    const created = await this.#each(creators, (p) => setup(p, "groups.create", p.rooms[0]));
    if (created.failed > 0) return this.fail(created.firstError!);
    // One request at a time per client: its rooms one after the other.
    const joined = await this.#each(this.peers, async (p) => {
      for (const [k, room] of p.rooms.entries()) {
        if (k > 0 || p.index >= o.rooms) await setup(p, "groups.join", room);
      }
    });
    if (joined.failed > 0) return this.fail(joined.firstError!);
    this.#setupSeconds = (performance.now() - t) / 1000;

    this.phase = "traffic";
    this.#pings0 = keepalive.pingsAnswered;
    this.#benchCpu0 = selfCpuSeconds();
    this.#t0 = performance.now();
    this.#start = await this.#point();
    if (o.warmup === 0) this.#warm = this.#start;
    const lives = Promise.all(
      this.peers.map((p) =>
        p.live().catch((e) => this.fail(e instanceof Error ? e.message : String(e)))
      ),
    );
    const sampler = this.#sampleLoop();
    await this.traffic.pause(o.seconds * 1000);
    this.traffic.stop("the traffic ended");
    this.#tEnd = performance.now();
    this.#benchCpu1 = selfCpuSeconds();
    this.#end = await this.#point();
    await sampler;
    if (this.stopper.stopped) return;

    this.phase = "draining";
    const drainEnd = this.#tEnd + o.drain * 1000;
    // Everyone away logs back in first; then what is still on its way gets the rest.
    await this.stopper.until(Promise.race([lives, sleepUntil(drainEnd)]));
    while (!this.stopper.stopped && !this.#settled() && performance.now() < drainEnd) {
      await this.stopper.pause(DRAIN_POLL_MS);
    }
    this.#drainSeconds = (performance.now() - this.#tEnd) / 1000;
    this.#drained = await this.#point(false);
    if (!this.stopper.stopped) this.phase = "done";
  }

  close(): void {
    this.#closing = true;
    this.traffic.stop("closed");
    for (const p of this.peers) p.close();
  }

  /** Runs `f` on every item with at most --concurrency in flight; counts the failures. */
  async #each<T>(items: T[], f: (item: T) => Promise<void>) {
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (next < items.length && !this.stopper.stopped) {
        const item = items[next++];
        try {
          await f(item);
        } catch (e) {
          failed++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
      }
    };
    const n = Math.min(this.o.concurrency, items.length);
    await Promise.all(Array.from({ length: n }, worker));
    return { failed, firstError };
  }

  /** Samples every SAMPLE_EVERY_S seconds of the traffic, and at the end of the warm-up. */
  async #sampleLoop(): Promise<void> {
    const { o } = this;
    const marks = new Set<number>();
    for (let m = SAMPLE_EVERY_S; m < o.seconds; m += SAMPLE_EVERY_S) marks.add(m);
    if (o.warmup > 0) marks.add(o.warmup);
    for (const m of [...marks].sort((a, b) => a - b)) {
      const wait = this.#t0! + m * 1000 - performance.now();
      if (wait > 0) await this.traffic.pause(wait);
      if (this.traffic.stopped) return;
      const p = await this.#point();
      if (m === o.warmup) this.#warm = p;
    }
  }

  async #point(keep = true): Promise<Point> {
    const s = await sample(this.o.pids);
    const p = { t: (performance.now() - (this.#t0 ?? 0)) / 1000, rssKiB: s.rssKiB, cpu: s.cpu };
    if (keep) this.#points.push(p);
    return p;
  }

  /** Every client online, every request answered, every promised delivery made. */
  #settled(): boolean {
    return this.peers.every((p) => p.state === "online" && p.inflight === 0) &&
      this.ledger.undelivered("dm") === 0 && this.ledger.undelivered("post") === 0;
  }

  /** The report so far; called once at the end, or early when the deadline cuts the run. */
  async result(failure: string | undefined): Promise<Result> {
    const now = this.#t0 === undefined ? undefined : await this.#point(false);
    return soakResult(this, {
      rss0: this.#rss0,
      points: this.#points,
      start: this.#start,
      warm: this.#warm,
      end: this.#end ?? now,
      drained: this.#drained,
      setupSeconds: this.#setupSeconds,
      drainSeconds: this.#drainSeconds,
      benchCpu0: this.#benchCpu0,
      benchCpu1: this.#benchCpu1,
      pings0: this.#pings0,
      firstDrop: this.#firstDrop,
    }, failure);
  }
}

function sleepUntil(t: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));
}
