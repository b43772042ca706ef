/**
 * Combines repeated runs: reads the JSON result lines of `deno task bench ... --json` from
 * stdin (other lines are skipped) and prints one Markdown row per configuration with the
 * median of each figure and its spread (min-max), the form docs/BENCHMARKS.md reports.
 *
 *   deno run bench/summarize.ts < results.jsonl
 */
import { median } from "./stats.ts";

type Row = Record<string, unknown>;

const DM_COLUMNS: [string, string, number][] = [
  ["sentPerSec", "sent/s (acked)", 0],
  ["deliveredPerSec", "delivered/s", 0],
  ["deliveriesPerCpuSecond", "deliveries/CPU-s", 0],
  ["serverCpuSeconds", "server CPU-s", 2],
  ["latencyP50Ms", "p50 ms", 2],
  ["latencyP99Ms", "p99 ms", 1],
  ["losses", "losses", 0],
  ["errors", "errors", 0],
  ["rssStartKiB", "RSS start KiB", 0],
  ["rssEndKiB", "RSS end KiB", 0],
  ["benchCpuSeconds", "bench CPU-s", 2],
];

const CONN_COLUMNS: [string, string, number][] = [
  ["kibPerConnection", "KiB/conn", 1],
  ["rssStartKiB", "RSS before KiB", 0],
  ["rssEndKiB", "RSS after KiB", 0],
  ["loginsPerSec", "logins/s", 0],
  ["serverCpuSeconds", "server CPU-s", 2],
  ["failed", "failed", 0],
  ["errors", "errors", 0],
];

const BACKLOG_COLUMNS: [string, string, number][] = [
  ["allMessagesMs", "all received ms", 1],
  ["catchUpPerSec", "catch-up msg/s", 0],
  ["loginAckMs", "login ack ms", 1],
  ["firstMessageMs", "first msg ms", 1],
  ["catchUpServerCpuSeconds", "catch-up server CPU-s", 2],
  ["storedPerSec", "stored/s (sending)", 0],
  ["sendServerCpuSeconds", "sending server CPU-s", 2],
  ["rssEndKiB", "RSS end KiB", 0],
  ["missing", "missing", 0],
  ["outOfOrder", "out of order", 0],
  ["errors", "errors", 0],
];

const FILE_COLUMNS: [string, string, number][] = [
  ["rawMBps", "raw loopback MB/s", 1],
  ["serverMBps", "through server MB/s", 1],
  ["ratio", "ratio", 3],
  ["serverCpuSeconds", "server CPU-s", 2],
  ["rssMaxKiB", "RSS max KiB", 0],
  ["benchCpuSeconds", "bench CPU-s", 2],
];

const SOAK_COLUMNS: [string, string, number][] = [
  ["rssWarmKiB", "RSS after warm-up KiB", 0],
  ["rssEndKiB", "RSS end KiB", 0],
  ["rssEndWarmRatio", "end/warm-up", 3],
  ["rssMaxKiB", "RSS max KiB", 0],
  ["rssSlopeKiBPerMin", "RSS KiB/min", 0],
  ["serverCpuPercent", "server CPU %", 1],
  ["dmAcked", "DMs acked", 0],
  ["postDelivered", "room deliveries", 0],
  ["reconnects", "reconnects", 0],
  ["deliveryP99Ms", "delivery p99 ms", 1],
  ["undelivered", "undelivered", 0],
  ["drops", "dropped", 0],
  ["errors", "errors", 0],
];

const COLUMNS: Record<string, [string, string, number][]> = {
  conn: CONN_COLUMNS,
  dm: DM_COLUMNS,
  fanout: DM_COLUMNS,
  backlog: BACKLOG_COLUMNS,
  file: FILE_COLUMNS,
  soak: SOAK_COLUMNS,
};

function key(r: Row): string {
  if (r.workload === "backlog") {
    return `backlog ${r.messages} messages, window ${r.window}, text ${r.textBytes} bytes`;
  }
  if (r.workload === "file") {
    return `file ${Number(r.size).toLocaleString("en-US")} bytes, ${r.tls ? "TLS" : "plain TCP"}`;
  }
  if (r.workload === "soak") {
    return `soak ${r.clients} clients, ${r.rooms} rooms, ${Math.round(Number(r.seconds))} s, ` +
      `warm-up ${r.warmupSeconds} s`;
  }
  if (r.workload === "fanout") {
    return `fanout ${r.members} members, ${r.senders} posting, window ${r.window}, ${
      Math.round(Number(r.seconds))
    } s`;
  }
  return r.workload === "dm"
    ? `dm ${r.pairs} pairs, window ${r.window}, ${Math.round(Number(r.seconds))} s`
    : `conn ${r.clients} clients`;
}

function cell(values: unknown[], digits: number): string {
  const nums = values.filter((v): v is number => typeof v === "number");
  const m = median(nums);
  if (m === undefined) return "n/a";
  const f = (x: number) => x.toLocaleString("en-US", { maximumFractionDigits: digits });
  const lo = Math.min(...nums);
  const hi = Math.max(...nums);
  return lo === hi ? f(m) : `${f(m)} (${f(lo)}-${f(hi)})`;
}

export function summarize(text: string): string {
  const groups = new Map<string, Row[]>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const r = JSON.parse(line) as Row;
      if (typeof r.workload !== "string" || !Object.hasOwn(COLUMNS, r.workload)) continue;
      const k = key(r);
      groups.set(k, [...(groups.get(k) ?? []), r]);
    } catch { /* not a result line */ }
  }
  const out: string[] = [];
  for (const [workload, cols] of Object.entries(COLUMNS)) {
    const rows = [...groups].filter(([, rs]) => rs[0].workload === workload);
    if (rows.length === 0) continue;
    out.push(`| configuration | runs | ${cols.map((c) => c[1]).join(" | ")} |`);
    out.push(`|---|---|${cols.map(() => "---").join("|")}|`);
    for (const [k, rs] of rows) {
      const complete = rs.filter((r) => r.complete === true).length;
      const runs = complete === rs.length ? `${rs.length}` : `${rs.length} (${complete} complete)`;
      const cells = cols.map(([field, , d]) => cell(rs.map((r) => r[field]), d));
      out.push(`| ${k} | ${runs} | ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

if (import.meta.main) {
  console.log(summarize(await new Response(Deno.stdin.readable).text()));
}
