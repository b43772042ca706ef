/**
 * The fanout workload: M users join one room; S of them post to it as fast as a window of W
 * unacknowledged posts each allows, for D seconds; every post goes to the M-1 other members.
 * Deliveries are counted at the members (see WindowBench for the phases and figures).
 */
import { FanoutPeer } from "./fanout_peer.ts";
import { runTag } from "./peer.ts";
import { WindowBench } from "./window_bench.ts";

/** How long joining may take: every join notifies every member already in, M^2/2 frames. */
const JOIN_NOTICES_WAIT_MS = 60_000;

export class FanoutBench extends WindowBench<FanoutPeer> {
  protected makePeers(): FanoutPeer[] {
    const { o } = this;
    const tag = runTag();
    const room = `f${tag}`;
    return Array.from(
      { length: o.members },
      (_, i) =>
        new FanoutPeer(
          `b${tag}-${i}`,
          this.errors,
          this.stopper.stop,
          room,
          o.window,
          o.textBytes,
          this.latency,
        ),
    );
  }

  /** The first member creates the room, the rest join (a few at a time); then we wait until
   *  every join notice has arrived, so that none is read inside the measuring window. */
  protected override async prepare(): Promise<void> {
    const [first, ...rest] = this.peers;
    const created = await first.setup("groups.create");
    if (created.type !== "ack") return this.stopper.stop(`groups.create: ${created.code}`);
    let next = 0;
    const worker = async () => {
      while (next < rest.length && !this.stopper.stopped) {
        const p = rest[next++];
        const r = await p.setup("groups.join");
        if (r.type !== "ack") this.stopper.stop(`${p.name}: groups.join: ${r.code}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, rest.length) }, worker));
    // Member i sees a notice for each of the M-1-i members who joined after it.
    const m = this.peers.length;
    const notices = (m * (m - 1)) / 2;
    const until = performance.now() + JOIN_NOTICES_WAIT_MS;
    while (this.sum((p) => p.joinedNotices) < notices && !this.stopper.stopped) {
      if (performance.now() > until) return this.stopper.stop("join notices did not all arrive");
      await this.stopper.pause(10);
    }
  }

  protected senders(): FanoutPeer[] {
    return this.peers.slice(0, this.o.senders);
  }

  /** Each acked post is delivered to every member but its sender. */
  protected expected(): number {
    return this.sum((p) => p.acked) * (this.peers.length - 1);
  }

  protected describe() {
    const { o } = this;
    return {
      title: `fanout: ${o.members} members, ${o.senders} posting, window ${o.window}, ` +
        `${o.seconds} s, text ${o.textBytes} bytes, ${o.host}:${o.port}`,
      lines: [] as [string, string][],
      json: { workload: "fanout", members: o.members, senders: o.senders },
    };
  }
}
