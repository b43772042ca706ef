/**
 * The soak workload's report: from the server samples, timings and counters of a run, the
 * figures (RSS medians and trend, CPU, the series every SERIES_EVERY_S s), the text rows for
 * people and the JSON for scripts, and what makes a finished run wrong.
 */
import { keepalive } from "./client.ts";
import { selfCpuSeconds } from "./proc.ts";
import { count, fixed, mib, type Result, round } from "./report.ts";
import { AWAY_MS, MEAN_CHURN_MS, MEAN_GAP_MS } from "./soak_peer.ts";
import type { Options } from "./args.ts";
import type { ErrorTally } from "./peer.ts";
import type { Ledger, SoakCounts } from "./soak_ledger.ts";
import type { LatencyHistogram } from "./stats.ts";
import type { Stopper } from "./wait.ts";

/** Server samples during the traffic, and the spacing of the reported series. */
export const SAMPLE_EVERY_S = 5;
const SERIES_EVERY_S = 30;
/** The window of the RSS medians compared at the warm-up and at the end. */
const MEDIAN_WINDOW_S = 60;
/** Error codes that are part of the workload, not faults: a password login soon after a plain
 *  close can find the old session not yet gone (it is retried). */
const BENIGN_ERRORS = new Set(["NAME_IN_USE"]);

/** Where a soak run is (SoakBench.phase). */
export type SoakPhase = "connecting" | "joining" | "traffic" | "draining" | "done";

/** What the report reads of the run: SoakBench (soak.ts) is one. Declared here so that this
 *  file need not import soak.ts, which imports it. */
export interface SoakBenchView {
  readonly o: Options;
  readonly phase: SoakPhase;
  readonly counts: SoakCounts;
  readonly ledger: Ledger;
  readonly errors: ErrorTally;
  readonly stopper: Stopper;
  readonly delivery: LatencyHistogram;
  readonly answer: LatencyHistogram;
  readonly login: LatencyHistogram;
  readonly relogin: LatencyHistogram;
}

/** One server sample; `t` in seconds from the start of the traffic. */
export interface Point {
  t: number;
  rssKiB: number | undefined;
  cpu: number | undefined;
}

/** What SoakBench measured besides its counters: server samples (`end` is the end of the
 *  traffic, or the latest sample when the run was cut short), timings, CPU and pings. */
export interface SoakRun {
  rss0: number | undefined;
  points: Point[];
  start: Point | undefined;
  warm: Point | undefined;
  end: Point | undefined;
  drained: Point | undefined;
  setupSeconds: number | undefined;
  drainSeconds: number | undefined;
  benchCpu0: number | undefined;
  benchCpu1: number | undefined;
  pings0: number;
  firstDrop: string | undefined;
}

/** The report of a soak run, finished or cut short. */
export function soakResult(bench: SoakBenchView, r: SoakRun, failure: string | undefined): Result {
  const { o, counts: c, ledger } = bench;
  const { end, start, warm } = r;
  const points = [...r.points].sort((a, b) => a.t - b.t);
  const secs = start && end ? end.t - start.t : undefined;
  const cpu = diff(start?.cpu, end?.cpu);
  const steadyCpu = diff(warm?.cpu, end?.cpu);
  const steadySecs = warm && end ? end.t - warm.t : undefined;
  const ratio = warm?.rssKiB && end?.rssKiB !== undefined ? end.rssKiB / warm.rssKiB : undefined;
  // Single samples swing ±15% with the garbage collector: medians over a minute do not.
  const warmMinute = warm && medianRss(points, warm.t, warm.t + MEDIAN_WINDOW_S);
  const endMinute = end && medianRss(points, end.t - MEDIAN_WINDOW_S, end.t);
  const minuteRatio = warmMinute && endMinute ? endMinute / warmMinute : undefined;
  const rssMax = maxOf([r.rss0, ...points.map((p) => p.rssKiB), r.drained?.rssKiB]);
  const slope = slopePerMinute(points.filter((p) => warm !== undefined && p.t >= warm.t));
  const series = seriesOf(points, end);
  const benchCpu = diff(r.benchCpu0, r.benchCpu1 ?? selfCpuSeconds());
  const traffic = bench.phase !== "connecting" && bench.phase !== "joining";
  const dmUndelivered = traffic ? ledger.undelivered("dm") : undefined;
  const postUndelivered = traffic ? ledger.undelivered("post") : undefined;
  const unpromised = traffic ? ledger.unpromised("dm") + ledger.unpromised("post") : undefined;
  const pings = keepalive.pingsAnswered - r.pings0;
  const q = (h: LatencyHistogram, x: number) => ms(h.quantile(x));
  const lat = (h: LatencyHistogram) =>
    `${fixed(q(h, 0.5), 1)} / ${fixed(q(h, 0.99), 1)} / ${fixed(q(h, 1), 1, "ms")}`;
  const codes = Object.entries(bench.errors.codes).map(([k, n]) => `${k} x${n}`).join(", ");
  const why = failure ?? bench.stopper.reason ??
    faults(bench, r, dmUndelivered, postUndelivered, unpromised);
  const perClient = `${fixed(MEAN_GAP_MS / 1000, 0, "s")} think time, a departure per ` +
    `${fixed(MEAN_CHURN_MS / 1000, 0, "s")}, away ${AWAY_MS[0] / 1000}-${AWAY_MS[1] / 1000} s`;
  const members = (o.clients * Math.min(2, o.rooms)) / o.rooms;
  return {
    title: `soak: ${o.clients} clients, ${o.seconds} s (warm-up ${o.warmup} s), ` +
      `${o.rooms} rooms, seed ${o.seed}, ${o.host}:${o.port}`,
    complete: why === undefined && bench.phase === "done",
    failure: why ?? (bench.phase === "done" ? undefined : `stopped while ${bench.phase}`),
    lines: [
      [
        "setup",
        `${count(c.logins)} logged in, ${o.rooms} rooms of ~${count(members)} members, ` +
        `in ${fixed(r.setupSeconds, 1, "s")}`,
      ],
      ["traffic", `${fixed(secs, 1, "s")}; per client ${perClient}`],
      [
        "direct messages",
        `${count(c.dmSent)} sent, ${count(c.dmAcked)} acked (${count(c.dmStored)} "stored"), ` +
        `${count(c.dmRefused)} refused; ${count(c.dmDelivered)} delivered ` +
        `(${count(c.dmMissed)} at a login)`,
      ],
      [
        "room posts",
        `${count(c.postSent)} sent, ${count(c.postAcked)} acked, ${count(c.postRefused)} ` +
        `refused; ${count(c.postDelivered)} of ${count(c.postOwed)} deliveries made ` +
        `(${count(c.postMissed)} at a login)`,
      ],
      [
        "other requests",
        `${count(c.otherSent)} sent (who, members, ping), ${count(c.otherAcked)} acked, ` +
        `${count(c.otherRefused)} refused`,
      ],
      [
        "undelivered",
        `${count(dmUndelivered)} direct, ${count(postUndelivered)} room deliveries ` +
        `(acked, not delivered by the end of the drain)`,
      ],
      [
        "redelivered",
        `${count(c.redelivered)} (shown but not yet acknowledged when the client left: ` +
        `expected); ${count(c.duplicates)} duplicates, ${count(unpromised)} unpromised, ` +
        `${count(c.unexpected)} unexpected`,
      ],
      [
        "reconnects",
        `${count(c.reconnects)} (${count(c.cleanQuits)} after session.quit, ` +
        `${count(c.abruptCloses)} after a plain close; ${count(c.resumes)} resumed, ` +
        `${count(c.passwordLogins)} by password; ${count(c.loginRetries)} retried)`,
      ],
      [
        "dropped by server",
        `${count(c.drops)}${r.firstDrop ? `  (first: ${r.firstDrop})` : ""}; ` +
        `${count(c.unanswered)} requests unanswered`,
      ],
      ["keepalive pings", `${count(pings)} answered`],
      ["latency p50/p99/max", `delivery ${lat(bench.delivery)}`],
      ["", `answer ${lat(bench.answer)}; reconnect login ${lat(bench.relogin)}`],
      ["", `first logins ${lat(bench.login)} (${o.concurrency} at a time)`],
      [
        "server RSS",
        `${mib(r.rss0)} before login, ${mib(start?.rssKiB)} at traffic start, ` +
        `${mib(warm?.rssKiB)} after warm-up, ${mib(end?.rssKiB)} at the end`,
      ],
      [
        "RSS end / warm-up",
        `${fixed(ratio, 3)}  (max ${mib(rssMax)}; trend after warm-up ` +
        `${fixed(slope, 0, "KiB/min")}; ${mib(r.drained?.rssKiB)} after the drain)`,
      ],
      [
        `median over ${MEDIAN_WINDOW_S} s`,
        `${mib(endMinute)} in the last / ${mib(warmMinute)} in the first after warm-up = ` +
        fixed(minuteRatio, 3),
      ],
      [
        `RSS every ${SERIES_EVERY_S} s`,
        series.rss.length === 0
          ? "n/a"
          : series.rss.map((k) => k === undefined ? "n/a" : (k / 1024).toFixed(1)).join(" ") +
            " MiB",
      ],
      [
        "server CPU",
        `${fixed(cpu, 1, "s")}  (${fixed(cpu && secs && (100 * cpu) / secs, 0, "%")}; ` +
        `after warm-up ${
          fixed(steadyCpu && steadySecs && (100 * steadyCpu) / steadySecs, 0, "%")
        })`,
      ],
      [
        `CPU every ${SERIES_EVERY_S} s`,
        series.cpu.length === 0
          ? "n/a"
          : series.cpu.map((x) => (x === undefined ? "n/a" : x.toFixed(0))).join(" ") + " %",
      ],
      ["bench CPU", `${fixed(benchCpu, 1, "s")}  (this load generator, the traffic)`],
      [
        "frames read",
        `${count(c.presenceFrames)} presence, ${count(c.joinedNotices)} room joins, ` +
        `${count(c.summaries)} offline summaries; ${count(c.sessionAcks)} session.acks sent`,
      ],
      ["errors", `${bench.errors.total}${codes ? `  (${codes})` : ""}`],
      ["drain", fixed(r.drainSeconds, 2, "s")],
    ],
    json: {
      workload: "soak",
      clients: o.clients,
      seconds: round(secs, 1),
      warmupSeconds: o.warmup,
      rooms: o.rooms,
      seed: o.seed,
      textBytes: o.textBytes,
      setupSeconds: round(r.setupSeconds, 2),
      dmSent: c.dmSent,
      dmAcked: c.dmAcked,
      dmStored: c.dmStored,
      dmRefused: c.dmRefused,
      dmDelivered: c.dmDelivered,
      dmDeliveredAtLogin: c.dmMissed,
      dmUndelivered,
      postSent: c.postSent,
      postAcked: c.postAcked,
      postRefused: c.postRefused,
      postDeliveriesOwed: c.postOwed,
      postDelivered: c.postDelivered,
      postDeliveredAtLogin: c.postMissed,
      postUndelivered,
      otherSent: c.otherSent,
      otherAcked: c.otherAcked,
      undelivered: dmUndelivered === undefined ? undefined : dmUndelivered + postUndelivered!,
      redelivered: c.redelivered,
      duplicates: c.duplicates,
      unpromised,
      unexpected: c.unexpected,
      reconnects: c.reconnects,
      cleanQuits: c.cleanQuits,
      abruptCloses: c.abruptCloses,
      resumes: c.resumes,
      passwordLogins: c.passwordLogins,
      loginRetries: c.loginRetries,
      drops: c.drops,
      unanswered: c.unanswered,
      pingsAnswered: pings,
      deliveryP50Ms: round(q(bench.delivery, 0.5), 2),
      deliveryP99Ms: round(q(bench.delivery, 0.99), 2),
      deliveryMaxMs: round(q(bench.delivery, 1), 1),
      answerP99Ms: round(q(bench.answer, 0.99), 2),
      firstLoginP99Ms: round(q(bench.login, 0.99), 1),
      reloginP50Ms: round(q(bench.relogin, 0.5), 1),
      reloginP99Ms: round(q(bench.relogin, 0.99), 1),
      serverCpuSeconds: round(cpu, 2),
      serverCpuPercent: round(cpu && secs ? (100 * cpu) / secs : undefined, 1),
      steadyCpuPercent: round(
        steadyCpu && steadySecs ? (100 * steadyCpu) / steadySecs : undefined,
        1,
      ),
      benchCpuSeconds: round(benchCpu, 2),
      rssStartKiB: r.rss0,
      rssTrafficStartKiB: start?.rssKiB,
      rssWarmKiB: warm?.rssKiB,
      rssEndKiB: end?.rssKiB,
      rssEndWarmRatio: round(ratio, 3),
      rssWarmMedianKiB: warmMinute,
      rssEndMedianKiB: endMinute,
      rssMedianRatio: round(minuteRatio, 3),
      rssMaxKiB: rssMax,
      rssSlopeKiBPerMin: round(slope),
      rssDrainedKiB: r.drained?.rssKiB,
      seriesEverySeconds: SERIES_EVERY_S,
      rssSeriesKiB: series.rss,
      cpuSeriesPercent: series.cpu.map((x) => round(x, 1)),
      errors: bench.errors.total,
      errorCodes: bench.errors.codes,
      drainSeconds: round(r.drainSeconds, 2),
    },
  };
}

/** What makes a finished run wrong even though nothing stopped it. */
function faults(
  bench: SoakBenchView,
  r: SoakRun,
  dm: number | undefined,
  post: number | undefined,
  unpromised: number | undefined,
): string | undefined {
  if (bench.phase !== "done") return undefined;
  const c = bench.counts;
  const out: string[] = [];
  if (dm) out.push(`${dm} acked direct messages not delivered`);
  if (post) out.push(`${post} room deliveries acked and not made`);
  if (c.duplicates) out.push(`${c.duplicates} messages delivered twice or out of order`);
  if (unpromised) out.push(`${unpromised} deliveries of messages that were not acked`);
  if (c.unexpected) out.push(`${c.unexpected} unexpected messages`);
  if (c.drops) out.push(`${c.drops} connections dropped by the server (${r.firstDrop})`);
  const bad = Object.entries(bench.errors.codes).filter(([k]) => !BENIGN_ERRORS.has(k));
  if (bad.length) out.push(`errors: ${bad.map(([k, n]) => `${k} x${n}`).join(", ")}`);
  return out.length ? out.join("; ") : undefined;
}

/** The RSS at every SERIES_EVERY_S seconds of the traffic (and at its end), and the server's
 *  CPU use in each interval between them. */
function seriesOf(points: Point[], end: Point | undefined) {
  const picked: Point[] = [];
  for (let mark = 0; end && mark < end.t - 1; mark += SERIES_EVERY_S) {
    let best: Point | undefined;
    for (const p of points) if (!best || Math.abs(p.t - mark) < Math.abs(best.t - mark)) best = p;
    if (best && Math.abs(best.t - mark) < SAMPLE_EVERY_S && picked.at(-1) !== best) {
      picked.push(best);
    }
  }
  if (end) picked.push(end);
  const cpu: (number | undefined)[] = [];
  for (let i = 1; i < picked.length; i++) {
    const d = diff(picked[i - 1].cpu, picked[i].cpu);
    const dt = picked[i].t - picked[i - 1].t;
    cpu.push(d === undefined || dt <= 0 ? undefined : (100 * d) / dt);
  }
  return { rss: picked.map((p) => p.rssKiB), cpu };
}

/** The median RSS of the samples from t0 to t1 (seconds of traffic); undefined if none. */
function medianRss(points: Point[], t0: number, t1: number): number | undefined {
  const v = points.filter((p) => p.t >= t0 - 0.5 && p.t <= t1 + 0.5 && p.rssKiB !== undefined)
    .map((p) => p.rssKiB!).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : undefined;
}

/** Least-squares slope of RSS over time, in KiB a minute; undefined with fewer than 3 points. */
function slopePerMinute(points: Point[]): number | undefined {
  const xy = points.filter((p) => p.rssKiB !== undefined).map((p) => [p.t / 60, p.rssKiB!]);
  if (xy.length < 3) return undefined;
  const mx = xy.reduce((s, [x]) => s + x, 0) / xy.length;
  const my = xy.reduce((s, [, y]) => s + y, 0) / xy.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of xy) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? num / den : undefined;
}

function maxOf(xs: (number | undefined)[]): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? Math.max(...v) : undefined;
}

function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}

function ms(us: number | undefined): number | undefined {
  return us === undefined ? undefined : us / 1000;
}
