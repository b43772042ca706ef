/**
 * Server-side figures from Linux /proc for the process given with --pid. Deno refuses to read
 * /proc/<pid>/* without --allow-all, so we ask `cat` (the task grants --allow-run=cat only);
 * it runs a handful of times per benchmark, never on the hot path. Failures return undefined,
 * never throw: without --pid, on another OS, or after the server died, a figure is just n/a.
 */
import process from "node:process";

/** Clock ticks per second for utime/stime in /proc/<pid>/stat. Assumed to be 100 (USER_HZ,
 *  which `getconf CLK_TCK` prints on every mainstream Linux build) because Deno has no sysconf;
 *  the figure would be off by exactly that factor on a kernel built with another USER_HZ. */
export const CLK_TCK = 100;

export interface ProcSample {
  /** CPU seconds (user + system) the process has used so far. */
  cpu: number | undefined;
  /** Resident set size in KiB (VmRSS). */
  rssKiB: number | undefined;
}

const NONE: ProcSample = { cpu: undefined, rssKiB: undefined };

export async function sample(pid: number | number[] | undefined): Promise<ProcSample> {
  if (Array.isArray(pid)) {
    if (pid.length <= 1) return sample(pid[0]);
    // A cluster's nodes: their sums.
    const all = await Promise.all(pid.map((p) => sample(p)));
    const sum = (k: keyof ProcSample) =>
      all.some((s) => s[k] === undefined) ? undefined : all.reduce((n, s) => n + s[k]!, 0);
    return { cpu: sum("cpu"), rssKiB: sum("rssKiB") };
  }
  if (pid === undefined) return NONE;
  try {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${pid}/stat`, `/proc/${pid}/status`],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return NONE;
    const text = new TextDecoder().decode(out.stdout);
    const stat = text.slice(0, text.indexOf("\n"));
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state), so utime (field 14) is rest[11] and stime (15) rest[12].
    const ticks = Number(rest[11]) + Number(rest[12]);
    const rss = text.match(/^VmRSS:\s+(\d+)\s+kB/m);
    return {
      cpu: Number.isFinite(ticks) ? ticks / CLK_TCK : undefined,
      rssKiB: rss ? Number(rss[1]) : undefined,
    };
  } catch {
    return NONE;
  }
}

/** This load generator's own CPU seconds (user + system), to show it is not the bottleneck. */
export function selfCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
