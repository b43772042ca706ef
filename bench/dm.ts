/**
 * The dm workload: P pairs of users message each other as fast as a window of W unacknowledged
 * requests per sender allows, for D seconds (see WindowBench for the phases and figures).
 */
import { DmPeer } from "./dm_peer.ts";
import { runTag } from "./peer.ts";
import { WindowBench } from "./window_bench.ts";

export class DmBench extends WindowBench<DmPeer> {
  protected makePeers(): DmPeer[] {
    const { o } = this;
    const tag = runTag();
    const peers: DmPeer[] = [];
    for (let i = 0; i < 2 * o.pairs; i++) {
      peers.push(
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
    for (let i = 0; i < peers.length; i += 2) {
      peers[i].pairWith(peers[i + 1]);
      peers[i + 1].pairWith(peers[i]);
    }
    return peers;
  }

  protected senders(): DmPeer[] {
    return this.peers;
  }

  /** Each acked message is delivered once, to the partner. */
  protected expected(): number {
    return this.sum((p) => p.acked);
  }

  protected describe() {
    const { o } = this;
    return {
      title: `dm: ${o.pairs} pairs (${2 * o.pairs} connections), window ${o.window}, ` +
        `${o.seconds} s, text ${o.textBytes} bytes, ${o.host}:${o.port}`,
      lines: [],
      json: { workload: "dm", pairs: o.pairs, connections: 2 * o.pairs },
    };
  }
}
