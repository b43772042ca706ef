/**
 * `deno task bench <workload>`: a load generator for a ClassChat server that runs separately.
 *
 *   deno task bench conn --port 7000 --pid <server pid> --clients 2000
 *   deno task bench dm --port 7000 --pid <server pid> --pairs 50 --seconds 10 --window 100
 *   deno task bench backlog --port 7000 --pid <server pid> --messages 10000
 *   deno task bench fanout --port 7000 --pid <server pid> --members 200 --senders 4
 *   deno task bench file --port 7000 --pid <server pid> --tls-cert <data>/tls/cert.pem \
 *     --size 1073741824
 *   deno task bench soak --port 7000 --pid <server pid> --tls-cert <data>/tls/cert.pem \
 *     --clients 500 --seconds 600
 *
 * Every run is bounded: past --deadline it prints what it has and exits 1, and a connection
 * the server drops ends the run early, so a dead server never leaves it hanging.
 * Exit codes: 0 complete, 1 failed or incomplete, 2 usage error. See docs/BENCHMARKS.md.
 */
import { HELP, type Options, parseOptions, UsageError } from "./args.ts";
import { BacklogBench } from "./backlog.ts";
import { ConnBench } from "./conn.ts";
import { DmBench } from "./dm.ts";
import { FanoutBench } from "./fanout.ts";
import { FileBench } from "./file.ts";
import { printResult } from "./report.ts";
import { SoakBench } from "./soak.ts";

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

export async function main(argv: string[]): Promise<number> {
  let o: Options | undefined;
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}`);
    if (e.showHelpHint) console.error("(run with --help for usage)");
    return EXIT_USAGE;
  }
  if (o === undefined) {
    console.log(HELP);
    return EXIT_OK;
  }
  const bench = o.workload === "dm"
    ? new DmBench(o)
    : o.workload === "backlog"
    ? new BacklogBench(o)
    : o.workload === "fanout"
    ? new FanoutBench(o)
    : o.workload === "file"
    ? new FileBench(o)
    : o.workload === "soak"
    ? new SoakBench(o)
    : new ConnBench(o);
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`deadline of ${o.deadline} s reached`), o.deadline * 1000);
  });
  const failure = await Promise.race([
    bench.run(abort.signal).then(
      () => undefined,
      (e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
    ),
    deadline,
  ]);
  clearTimeout(timer);
  abort.abort();
  const result = await bench.result(failure);
  bench.close();
  printResult(result, o.json);
  return result.complete ? EXIT_OK : EXIT_FAILURE;
}

// Exit explicitly: after a deadline, reads and connects may still be pending on a stuck server.
if (import.meta.main) Deno.exit(await main(Deno.args));
