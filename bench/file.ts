/**
 * The file workload: file-transfer throughput through the server against raw loopback TCP on
 * this machine, in one run, so their ratio is the figure. --size bytes go over loopback TCP
 * inside this process (no TLS, no framing), then from one bench user to another through the
 * server with the sendfile protocol, timed from the offer's ack to the receiver's verdict.
 * Both transfers are SHA-256 checked end to end.
 */
import { createHash } from "node:crypto";
import type { Options } from "./args.ts";
import { FileReceiver, FileSender, FileSource, PIECE_BYTES } from "./file_peer.ts";
import { ErrorTally, openAll, runTag, serverTarget } from "./peer.ts";
import { type ProcSample, sample, selfCpuSeconds } from "./proc.ts";
import { count, fixed, mib, type Result, round } from "./report.ts";
import { Stopper } from "./wait.ts";

/** Chunk frames are ~44 KB: a large read buffer means fewer reads per frame. */
const READ_BUFFER_BYTES = 256 * 1024;
/** How often server and bench RSS are sampled for their maxima: a spawn of `cat` each time. */
const RSS_SAMPLE_MS = 250;

type Raw = { received: number; seconds?: number; benchCpu?: number; sent?: string; got?: string };

export class FileBench {
  readonly errors = new ErrorTally();
  readonly stopper = new Stopper();
  /** The raw baseline: bytes received, seconds, bench CPU, SHA-256 of both ends. */
  readonly raw: Raw = { received: 0 };
  sender: FileSender | undefined;
  receiver: FileReceiver | undefined;
  #phase: "raw" | "connecting" | "offering" | "sending" | "done" = "raw";
  /** Server samples as the transfer starts and ends; the largest RSS seen (server, bench). */
  #s0: ProcSample | undefined;
  #s1: ProcSample | undefined;
  #rssMax: number | undefined;
  #benchRssMax = 0;
  #benchCpu: number[] = [];
  #watching = true;

  constructor(readonly o: Options) {}

  async run(signal: AbortSignal): Promise<void> {
    const { o, stopper, errors } = this;
    const source = new FileSource(o.size);
    const watching = this.#watchRss();
    try {
      await this.#rawLoopback(source);
      if (stopper.stopped) return;
      this.#phase = "connecting";
      const tag = runTag();
      const sender = this.sender = new FileSender(`b${tag}-s`, errors, stopper, source);
      const receiver = this.receiver = new FileReceiver(`b${tag}-r`, errors, stopper, sender.name);
      const target = await serverTarget(o, signal, READ_BUFFER_BYTES);
      const { failed, firstError } = await openAll([sender, receiver], target, 2);
      if (failed) return stopper.stop(`${failed} of 2 clients failed to log in: ${firstError}`);
      this.#phase = "offering";
      this.#s0 = await sample(o.pids);
      this.#benchCpu.push(selfCpuSeconds());
      await sender.offer(receiver.name);
      if (stopper.stopped) return;
      this.#phase = "sending";
      await sender.send();
      if (stopper.stopped) return;
      this.#benchCpu.push(selfCpuSeconds());
      this.#s1 = await sample(o.pids);
      this.#phase = "done";
    } finally {
      this.#watching = false;
      await watching;
    }
  }

  /** Samples RSS until the run ends, for the maxima: a transfer's peak is not at its end. */
  async #watchRss(): Promise<void> {
    while (this.#watching && !this.stopper.stopped) {
      this.#noteRss(await sample(this.o.pids));
      await this.stopper.pause(RSS_SAMPLE_MS);
    }
  }

  #noteRss(s: ProcSample | undefined): void {
    if (s?.rssKiB !== undefined) this.#rssMax = Math.max(this.#rssMax ?? 0, s.rssKiB);
    this.#benchRssMax = Math.max(this.#benchRssMax, Deno.memoryUsage().rss / 1024);
  }

  /** Sends the file to ourselves over loopback TCP: 32 KiB writes, reads of whatever comes,
   *  timed from the first write until the receiver has every byte. */
  async #rawLoopback(source: FileSource): Promise<void> {
    const { raw, stopper } = this;
    const size = source.size;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener.accept();
    const out = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const inc = await accepted;
    try {
      const cpu0 = selfCpuSeconds();
      const t0 = performance.now();
      const receiving = (async () => {
        const hash = createHash("sha256");
        const buf = new Uint8Array(READ_BUFFER_BYTES);
        while (raw.received < size && !stopper.stopped) {
          const n = await inc.read(buf);
          if (n === null) return stopper.stop(`raw: EOF after ${raw.received} of ${size} bytes`);
          hash.update(buf.subarray(0, n));
          raw.received += n;
        }
        raw.seconds = (performance.now() - t0) / 1000;
        raw.got = hash.digest("hex");
      })();
      const hash = createHash("sha256");
      const pieces = size === 0 ? 0 : source.count(PIECE_BYTES);
      for (let k = 0; k < pieces && !stopper.stopped; k++) {
        const piece = source.piece(k, PIECE_BYTES);
        for (let off = 0; off < piece.length;) off += await out.write(piece.subarray(off));
        hash.update(piece);
      }
      raw.sent = hash.digest("hex");
      await receiving;
      raw.benchCpu = selfCpuSeconds() - cpu0;
      // Nothing may follow the last byte: the sender is done, so the receiver must see EOF.
      await out.closeWrite();
      if ((await inc.read(new Uint8Array(1))) !== null) stopper.stop("raw: got extra bytes");
    } finally {
      out.close();
      inc.close();
      listener.close();
    }
  }

  close(): void {
    this.sender?.client?.close();
    this.receiver?.client?.close();
  }

  /** The report so far; called once at the end, or early when the deadline cuts the run. */
  async result(failure: string | undefined): Promise<Result> {
    const { o, raw } = this;
    const snd = this.sender;
    const rcv = this.receiver;
    const end = this.#s1 ?? await sample(o.pids);
    this.#noteRss(end);
    const rawRate = raw.seconds && o.size / raw.seconds / 1e6;
    const from = snd?.ackAt;
    const since = (t: number | undefined) => diff(from, t);
    const ms = since(snd?.verifiedAt);
    const secs = ms === undefined ? undefined : ms / 1000;
    const rate = secs && o.size / secs / 1e6;
    const ratio = rate && rawRate ? rate / rawRate : undefined;
    // Cut short, CPU counts up to now; the chunk size and window exist once the offer is acked.
    const cpu = diff(this.#s0?.cpu, end.cpu);
    const benchCpu = diff(this.#benchCpu[0], this.#benchCpu[1] ?? selfCpuSeconds());
    const ack = snd?.file === undefined ? undefined : snd;
    const why = failure ?? this.stopper.reason ?? this.#faults();
    const codes = Object.entries(this.errors.codes).map(([c, n]) => `${c} x${n}`).join(", ");
    const rawSame = raw.sent !== undefined && raw.sent === raw.got;
    const same = rcv?.sha256 === undefined ? undefined : rcv.sha256 === snd?.sha256;
    const tls = o.tlsCert ? "TLS" : "plain TCP";
    return {
      title: `file: ${count(o.size)} bytes, ${tls}, ${o.host}:${o.port}`,
      complete: why === undefined && this.#phase === "done",
      failure: why ?? (this.#phase === "done" ? undefined : `stopped while ${this.#phase}`),
      lines: [
        [
          "raw loopback TCP",
          `${fixed(rawRate, 1, "MB/s")}  (${fixed(raw.seconds, 2, "s")}, no TLS, ` +
          `SHA-256 ${raw.got === undefined ? "n/a" : rawSame ? "match" : "MISMATCH"})`,
        ],
        [
          "through the server",
          `${fixed(rate, 1, "MB/s")}  (${fixed(secs, 2, "s")} from the offer's ack to verified)`,
        ],
        ["ratio server/raw", fixed(ratio, 3)],
        [
          "transfer",
          `${count(snd?.chunks)} chunks of ${count(ack?.chunkBytes)} bytes, window ` +
          `${count(ack?.window)}, ${count(snd?.credits)} credits`,
        ],
        [
          "client timing",
          `offer acked in ${fixed(diff(snd?.offerAt, from), 1, "ms")}; then last chunk ` +
          `written at ${fixed(since(snd?.lastChunkAt), 0, "ms")}, ` +
          `received at ${fixed(since(rcv?.lastChunkAt), 0, "ms")}, ` +
          `verified at ${fixed(ms, 0, "ms")}`,
        ],
        ["SHA-256", `sent = received: ${same ?? "n/a"}, verdict ok: ${snd?.verifiedOk ?? "n/a"}`],
        [
          "server CPU",
          `${fixed(cpu, 2, "s")}  (${fixed(cpu && secs && 100 * cpu / secs, 0, "%")})`,
        ],
        [
          "bench CPU",
          `${fixed(benchCpu, 2, "s")} through the server ` +
          `(${fixed(benchCpu && secs && 100 * benchCpu / secs, 0, "%")}), ` +
          `${fixed(raw.benchCpu, 2, "s")} raw  (one thread: near 100% means the bench limits)`,
        ],
        [
          "server RSS",
          `${mib(this.#s0?.rssKiB)} at start, ${mib(this.#rssMax)} max, ${mib(end.rssKiB)} at end`,
        ],
        ["bench RSS", `${mib(this.#benchRssMax)} max`],
        ["errors", `${this.errors.total}${codes ? `  (${codes})` : ""}`],
      ],
      json: {
        workload: "file",
        size: o.size,
        tls: o.tlsCert !== undefined,
        chunkBytes: ack?.chunkBytes,
        window: ack?.window,
        chunks: snd?.chunks,
        credits: snd?.credits,
        rawSeconds: round(raw.seconds, 3),
        rawMBps: round(rawRate, 1),
        rawSha256Match: raw.got === undefined ? undefined : rawSame,
        serverSeconds: round(secs, 3),
        serverMBps: round(rate, 1),
        ratio: round(ratio, 4),
        offerAckMs: round(diff(snd?.offerAt, from), 2),
        lastChunkWrittenMs: round(since(snd?.lastChunkAt), 1),
        receivedMs: round(since(rcv?.lastChunkAt), 1),
        verifiedMs: round(ms, 1),
        sha256Match: same,
        verifiedOk: snd?.verifiedOk,
        serverCpuSeconds: round(cpu, 2),
        benchCpuSeconds: round(benchCpu, 2),
        rawBenchCpuSeconds: round(raw.benchCpu, 2),
        rssStartKiB: this.#s0?.rssKiB,
        rssMaxKiB: this.#rssMax,
        rssEndKiB: end.rssKiB,
        benchRssMaxKiB: round(this.#benchRssMax),
        errors: this.errors.total,
        errorCodes: this.errors.codes,
      },
    };
  }

  /** What makes a finished run wrong even though nothing stopped it. */
  #faults(): string | undefined {
    const { raw, sender: snd, receiver: rcv } = this;
    if (this.#phase !== "done" || !snd || !rcv) return undefined;
    const out: string[] = [];
    if (raw.received !== this.o.size) out.push(`raw: ${raw.received} of ${this.o.size} bytes`);
    if (raw.sent !== raw.got) out.push("raw: SHA-256 of received bytes differs from sent");
    if (rcv.bytes !== this.o.size) out.push(`received ${rcv.bytes} of ${this.o.size} bytes`);
    if (rcv.sha256 !== snd.sha256) out.push("SHA-256 of received bytes differs from sent");
    if (rcv.claimed !== snd.sha256) out.push("sendfile.end arrived with a different SHA-256");
    if (snd.verifiedOk !== true) out.push("the receiver's verdict was not ok");
    if (this.errors.total) out.push(`${this.errors.total} errors`);
    return out.length ? out.join("; ") : undefined;
  }
}

function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}
