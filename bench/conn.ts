/**
 * The conn workload: N logged-in, idle connections, and what they cost the server in memory.
 * The clients keep reading (and discarding) whatever the server sends, so that nothing piles up
 * in its send queues and is counted as per-connection memory. Before issue 17 (commit 87fd1b8)
 * every login was broadcast as presence.joined to everyone already online, N(N-1)/2 frames;
 * since, presence notices go only to those who share a room or a conversation with the user,
 * and the bench users share neither, so a server of that kind sends none here ("presence frames
 * read" is 0).
 */
import type { Options } from "./args.ts";
import { ErrorTally, openAll, Peer, runTag, serverTarget } from "./peer.ts";
import { sample, selfCpuSeconds } from "./proc.ts";
import { count, fixed, mib, type Result, round } from "./report.ts";
import { Stopper } from "./wait.ts";

/** Idle clients read at most join notices; a small buffer keeps thousands of them cheap. */
const READ_BUFFER_BYTES = 16 * 1024;

export class ConnBench {
  readonly errors = new ErrorTally();
  readonly stopper = new Stopper();
  peers: Peer[] = [];
  #phase: "connecting" | "holding" | "done" = "connecting";
  #rss0: number | undefined;
  #rss1: number | undefined;
  #cpu0: number | undefined;
  #cpu1: number | undefined;
  #t0 = 0;
  #benchCpu0 = 0;
  #benchCpu1: number | undefined;
  #connectSeconds: number | undefined;
  #failed = 0;

  constructor(readonly o: Options) {}

  async run(signal: AbortSignal): Promise<void> {
    const { o } = this;
    const tag = runTag();
    for (let i = 0; i < o.clients; i++) {
      this.peers.push(new Peer(`b${tag}-${i}`, this.errors, this.stopper.stop));
    }
    const s0 = await sample(o.pids);
    this.#rss0 = s0.rssKiB;
    this.#cpu0 = s0.cpu;
    this.#t0 = performance.now();
    this.#benchCpu0 = selfCpuSeconds();
    const target = await serverTarget(o, signal, READ_BUFFER_BYTES);
    const { failed, firstError } = await openAll(this.peers, target, o.concurrency);
    this.#connectSeconds = (performance.now() - this.#t0) / 1000;
    this.#failed = failed;
    if (failed > 0) {
      this.stopper.stop(`${failed} of ${o.clients} clients failed to log in: ${firstError}`);
      return;
    }
    this.#phase = "holding";
    await this.stopper.pause(o.hold * 1000);
    this.#benchCpu1 = selfCpuSeconds();
    const s1 = await sample(o.pids);
    this.#cpu1 = s1.cpu;
    this.#rss1 = s1.rssKiB;
    this.#phase = "done";
  }

  close(): void {
    for (const p of this.peers) p.client?.close();
  }

  async result(failure: string | undefined): Promise<Result> {
    const { o } = this;
    const s = this.#rss1 === undefined ? await sample(o.pids) : undefined;
    const loggedIn = this.peers.filter((p) => p.loggedIn).length;
    const rss1 = this.#rss1 ?? s?.rssKiB;
    const cpu1 = this.#cpu1 ?? s?.cpu;
    const cpu = this.#cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - this.#cpu0;
    const perConn = this.#rss0 === undefined || rss1 === undefined || loggedIn === 0
      ? undefined
      : (rss1 - this.#rss0) / loggedIn;
    const secs = this.#connectSeconds;
    const benchCpu = (this.#benchCpu1 ?? selfCpuSeconds()) - this.#benchCpu0;
    let presence = 0;
    for (const p of this.peers) presence += p.presenceFrames;
    const codes = Object.entries(this.errors.codes).map(([c, n]) => `${c} x${n}`).join(", ");
    const why = failure ?? this.stopper.reason;
    return {
      title: `conn: ${o.clients} clients, hold ${o.hold} s, ` +
        `${o.concurrency} connects in flight, ${o.host}:${o.port}`,
      complete: why === undefined && this.#phase === "done",
      failure: why ?? (this.#phase === "done" ? undefined : `stopped while ${this.#phase}`),
      lines: [
        ["logged in", `${count(loggedIn)} of ${count(o.clients)}  (${this.#failed} failed)`],
        [
          "connect + login",
          `${fixed(secs, 2, "s")}  (${count(secs && loggedIn / secs, "logins/s")})`,
        ],
        ["server RSS", `${mib(this.#rss0)} before, ${mib(rss1)} after ${o.hold} s idle`],
        ["RSS per connection", fixed(perConn, 1, "KiB")],
        ["server CPU", `${fixed(cpu, 2, "s")}  (logins, any join notices, the idle hold)`],
        ["bench CPU", `${fixed(benchCpu, 2, "s")}  (this load generator, same span)`],
        ["presence frames read", `${count(presence)}  (join notices; none since issue 17)`],
        ["errors", `${this.errors.total}${codes ? `  (${codes})` : ""}`],
      ],
      json: {
        workload: "conn",
        clients: o.clients,
        loggedIn,
        failed: this.#failed,
        holdSeconds: o.hold,
        connectSeconds: round(secs, 3),
        loginsPerSec: round(secs ? loggedIn / secs : undefined),
        rssStartKiB: this.#rss0,
        rssEndKiB: rss1,
        kibPerConnection: round(perConn, 2),
        serverCpuSeconds: round(cpu, 2),
        benchCpuSeconds: round(benchCpu, 2),
        presenceFrames: presence,
        errors: this.errors.total,
        errorCodes: this.errors.codes,
      },
    };
  }
}
