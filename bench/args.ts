/**
 * Command-line parsing for `deno task bench`, on node:util's parseArgs (strict, so a typo in
 * an option is a usage error rather than a silently different benchmark).
 */
import { parseArgs } from "node:util";
import { parseSize } from "../protocol/units.ts";

/** The server's own default port (commands/options.ts), repeated so bench/ stands alone. */
const DEFAULT_PORT = 5757;
/** backlog's default deadline allows this many messages a second for sending and catch-up
 *  together, far below what a healthy server does, so only a stuck run meets it. */
const BACKLOG_DEADLINE_RATE = 500;
/** file's default deadline, likewise: bytes a second for the raw and server transfers together. */
const FILE_DEADLINE_RATE = 2_000_000;
/** file: the default --size, and the largest accepted (the protocol would carry more, but a
 *  bigger run only takes longer without measuring anything new). */
const DEFAULT_FILE_SIZE = "1GiB";
const MAX_FILE_SIZE = 2 ** 40;
/** soak: its default --rooms gives rooms of about this many members (each client is in two). */
const SOAK_ROOM_MEMBERS = 50;
const SOAK_ROOMS_PER_CLIENT = 2;
/** soak: the warm-up is this share of --seconds, at most SOAK_WARMUP_MAX seconds. */
const SOAK_WARMUP_SHARE = 0.1;
const SOAK_WARMUP_MAX = 60;

export class UsageError extends Error {
  /** False when pointing at --help would not help (a workload that does not exist yet). */
  constructor(message: string, readonly showHelpHint = true) {
    super(message);
  }
}

const WORKLOADS = ["conn", "dm", "backlog", "fanout", "file", "soak"] as const;
type Workload = typeof WORKLOADS[number];

export interface Options {
  workload: Workload;
  host: string;
  port: number;
  /** Every node's port (--port 7000,7001: nodes of one cluster); clients are spread over
   *  them in turn, so a dm pair's two ends are on two nodes. */
  ports: number[];
  /** PEM certificate of a TLS server to pin (its data dir's tls/cert.pem); else plain TCP. */
  tlsCert: string | undefined;
  pid: number | undefined;
  /** Every node's process id: CPU and RSS are their sums. */
  pids: number[];
  json: boolean;
  /** conn/soak: clients to open; conn: seconds to hold them idle; connects in flight at once. */
  clients: number;
  hold: number;
  concurrency: number;
  /** dm: sender/receiver pairs; dm/fanout/soak: sending seconds; dm/backlog: unacknowledged
   *  requests per sender; text length. */
  pairs: number;
  seconds: number;
  window: number;
  textBytes: number;
  /** fanout: room members, and how many of them post. */
  members: number;
  senders: number;
  /** backlog: messages sent to the offline receiver, then received in its catch-up. */
  messages: number;
  /** file: bytes to send, both over raw loopback TCP and through the server. */
  size: number;
  /** dm/fanout/soak: longest wait for in-flight deliveries after sending stops. */
  drain: number;
  /** soak: rooms (each client joins two), seconds of warm-up before the reference RSS, and
   *  the seed of its pseudo-random traffic. */
  rooms: number;
  warmup: number;
  seed: number;
  /** Hard limit for the whole run: past it the partial report is printed and we exit 1. */
  deadline: number;
  /** dm/fanout: every dm.send or groups.send carries a transaction id, as the real client's. */
  txn: boolean;
}

export const HELP = `Usage: deno task bench <workload> [options]

Load generator for a ClassChat server started separately, e.g.
  deno task serve --port 7000 --data "$(mktemp -d)" --log-level warn

Workloads:
  conn     open --clients connections, log each in, hold them idle, report server RSS per
           connection
  dm       --pairs pairs of clients send direct messages to each other as fast as the window
           allows for --seconds; report throughput, latency, losses, server CPU and RSS
  backlog  time for a user to receive --messages missed messages on connect: an offline
           account is sent them (each acked "stored"), then logs in; report the time from
           the login request to the last message, catch-up msg/s, order, server CPU and RSS
           (needs a server with the offline plugin)
  fanout   --members users join one room and --senders of them post to it as fast as the
           window allows for --seconds; every post goes to the other members. Report
           deliveries/s and per server CPU-second, latency, losses, server CPU and RSS
           (needs a server with the groups plugin)
  file     send a --size file of random bytes over raw loopback TCP inside this process,
           then from one bench user to another through the server with the sendfile
           protocol, both SHA-256 checked; report both MB/s, their ratio, server CPU and RSS
           (needs a server with the sendfile plugin), e.g.
             deno task bench file --port 7000 --pid <server pid> \\
               --tls-cert <data>/tls/cert.pem --size 1073741824
  soak     --clients users (soak-<tag>-0001, ...) log in and join --rooms rooms (two each),
           then for --seconds each does something every ~2 s on average (pseudo-random from
           --seed): mostly a direct message to another client, else a post to one of its
           rooms, presence.who, groups.members or session.ping; about once per 2 minutes a
           client disconnects (session.quit or a plain close), stays away 5-30 s and comes
           back (resume token or password), so that messages wait for it. Server RSS and CPU
           are sampled every 5 s; report RSS after --warmup and at the end, their ratio, the
           maximum and a series every 30 s, messages sent/acked/delivered, every acked
           message not delivered (live or after the reconnect) by the end of --drain,
           reconnects, errors. About 1.5 frames/s per client (requests, and session.ack at
           most once a second): far within the server's default rate limit, but run the
           server with --max-connections-per-address above --clients, e.g.
             deno task bench soak --clients 500 --seconds 600 --port 7000 \\
               --pid <server pid> --tls-cert <data>/tls/cert.pem
           (needs a server with the dm, offline, groups and presence plugins)

Options:
  --host <host>         server address (default 127.0.0.1)
  --port <port>[,...]   server port (default ${DEFAULT_PORT}); several: a cluster's nodes, clients
                        spread over them in turn
  --tls-cert <file>     the server's certificate (<data>/tls/cert.pem): connect with TLS
                        pinned to it; without it, plain TCP (serve --no-tls)
  --pid <pid>[,...]     server process id(s), for CPU and RSS from /proc, summed (else n/a)
  --clients <n>         conn/soak: connections to open (default 1000; soak 500)
  --hold <s>            conn: seconds to hold them idle before measuring (default 2)
  --concurrency <n>     connection attempts (and fanout/soak joins) in flight at once
                        (default 100)
  --pairs <n>           dm: client pairs (default 10)
  --members <n>         fanout: room members, each a connection (default 200)
  --senders <n>         fanout: members who post, at most --members (default 4)
  --seconds <s>         dm/fanout/soak: seconds of sending (default 10; soak 600)
  --window <n>          dm/fanout/backlog: unacknowledged requests per sender (default 100;
                        fanout 10, as each post is --members deliveries)
  --text-bytes <n>      dm/fanout/backlog/soak: message text length in bytes, at least 20
                        (default 32)
  --drain <s>           dm/fanout/soak: longest wait for in-flight deliveries after sending
                        (default 5; soak 60, which includes logging back in everyone away)
  --rooms <n>           soak: rooms, each client in two of them (default --clients / 25:
                        about 50 members each)
  --warmup <s>          soak: seconds of traffic before the reference RSS sample (default
                        10% of --seconds, at most 60)
  --seed <n>            soak: seed of the pseudo-random traffic (default 1)
  --messages <n>        backlog: missed messages to send and then receive (default 10000)
  --size <bytes>        file: bytes to send, a count or a size such as 100MiB (default 1GiB)
  --txn                 dm/fanout: every dm.send or groups.send also carries a unique
                        transaction id ("txn":"<random per client>.<counter>"), as the real
                        client's do since issue 17, so the server records each answer
                        durably (its core_txn table); without it, no txn (cheaper)
  --deadline <s>        give up after this many seconds in total (default: dm --seconds + 30,
                        fanout --seconds + 90, soak --seconds + 120,
                        conn --hold + 60, backlog 60 + --messages / ${BACKLOG_DEADLINE_RATE},
                        file 60 + 1 per ${FILE_DEADLINE_RATE / 1e6} MB of --size)
  --json                print only the JSON result line
  -h, --help            show this help

Exit codes: 0 ok, 1 the run failed or was incomplete, 2 usage error.
`;

/** Parses argv; returns undefined for --help, throws UsageError for anything malformed. */
export function parseOptions(argv: string[]): Options | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: String(DEFAULT_PORT) },
        "tls-cert": { type: "string" },
        pid: { type: "string" },
        clients: { type: "string" },
        hold: { type: "string", default: "2" },
        concurrency: { type: "string", default: "100" },
        pairs: { type: "string", default: "10" },
        seconds: { type: "string" },
        window: { type: "string" },
        members: { type: "string", default: "200" },
        senders: { type: "string", default: "4" },
        "text-bytes": { type: "string", default: "32" },
        drain: { type: "string" },
        rooms: { type: "string" },
        warmup: { type: "string" },
        seed: { type: "string", default: "1" },
        messages: { type: "string", default: "10000" },
        size: { type: "string", default: DEFAULT_FILE_SIZE },
        deadline: { type: "string" },
        txn: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const { values: v, positionals } = parsed;
  if (v.help) return undefined;
  const names = `${WORKLOADS.slice(0, -1).join(", ")} or ${WORKLOADS.at(-1)}`;
  if (positionals.length !== 1) throw new UsageError(`expected exactly one workload: ${names}`);
  const workload = WORKLOADS.find((w) => w === positionals[0]);
  if (workload === undefined) {
    throw new UsageError(`unknown workload "${positionals[0]}" (expected ${names})`);
  }
  const soak = workload === "soak";
  const seconds = num("seconds", v.seconds ?? (soak ? "600" : "10"), 0.1, 86400);
  const clients = int("clients", v.clients ?? (soak ? "500" : "1000"), soak ? 2 : 1, 1_000_000);
  const rooms = v.rooms === undefined
    ? Math.max(1, Math.round(clients * SOAK_ROOMS_PER_CLIENT / SOAK_ROOM_MEMBERS))
    : int("rooms", v.rooms, 1, 100_000);
  if (soak && rooms > clients) throw new UsageError("--rooms: at most --clients");
  const warmup = v.warmup === undefined
    ? Math.min(SOAK_WARMUP_MAX, SOAK_WARMUP_SHARE * seconds)
    : num("warmup", v.warmup, 0, 86400);
  if (soak && warmup >= seconds) throw new UsageError("--warmup: less than --seconds");
  const hold = num("hold", v.hold, 0, 3600);
  const messages = int("messages", v.messages, 1, 10_000_000);
  const members = int("members", v.members, 2, 100_000);
  const senders = int("senders", v.senders, 1, 100_000);
  if (senders > members) throw new UsageError("--senders: at most --members");
  const size = bytes("size", v.size, MAX_FILE_SIZE);
  if (v.txn && workload !== "dm" && workload !== "fanout") {
    throw new UsageError("--txn: only for dm and fanout");
  }
  const deadlineDefault = workload === "dm"
    ? seconds + 30
    : workload === "fanout"
    ? seconds + 90
    : soak
    ? seconds + 120
    : workload === "backlog"
    ? 60 + Math.ceil(messages / BACKLOG_DEADLINE_RATE)
    : workload === "file"
    ? 60 + Math.ceil(size / FILE_DEADLINE_RATE)
    : hold + 60;
  return {
    workload,
    host: v.host,
    port: int("port", v.port.split(",")[0], 1, 65535),
    ports: v.port.split(",").map((p) => int("port", p, 1, 65535)),
    tlsCert: v["tls-cert"],
    pid: v.pid === undefined ? undefined : int("pid", v.pid.split(",")[0], 1, 2 ** 31),
    pids: v.pid === undefined ? [] : v.pid.split(",").map((p) => int("pid", p, 1, 2 ** 31)),
    json: v.json,
    clients,
    hold,
    concurrency: int("concurrency", v.concurrency, 1, 10_000),
    pairs: int("pairs", v.pairs, 1, 100_000),
    seconds,
    window: int("window", v.window ?? (workload === "fanout" ? "10" : "100"), 1, 100_000),
    members,
    senders,
    textBytes: int("text-bytes", v["text-bytes"], 20, 8000),
    drain: num("drain", v.drain ?? (soak ? "60" : "5"), 0, 600),
    messages,
    size,
    rooms,
    warmup,
    seed: int("seed", v.seed, 0, 2 ** 32 - 1),
    deadline: v.deadline === undefined ? deadlineDefault : num("deadline", v.deadline, 1, 86400),
    txn: v.txn,
  };
}

function int(name: string, s: string, min: number, max: number): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a whole number from ${min} to ${max}, got "${s}"`);
  }
  return n;
}

/** A size as the server's options take it (1073741824, 1GiB, 100MiB, 64KiB, 5GB). */
function bytes(name: string, s: string, max: number): number {
  const n = parseSize(s);
  if (n === undefined || n > max) {
    throw new UsageError(
      `--${name}: expected a size up to ${max} bytes, such as 1GiB, 100MiB or 1073741824, got "${s}"`,
    );
  }
  return n;
}

function num(name: string, s: string, min: number, max: number): number {
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a number from ${min} to ${max}, got "${s}"`);
  }
  return n;
}
