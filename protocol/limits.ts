import { count, seconds, type Setting } from "./settings.ts";

const MIB = 1024 * 1024;
/** Seconds in a day: the bound of the longest timeouts. */
const DAY = 24 * 3600;

/**
 * Every limit the server enforces, declared once: its flag on `classchat serve`, its help, its
 * default and the range it takes, with the reason for the default. The Limits type,
 * DEFAULT_LIMITS, serve's options and the README's table all follow from it, and each limit has
 * a test that exceeds it. Timeouts are written in seconds (or ms, as the flag says) and kept in
 * milliseconds.
 */
export const LIMITS = {
  /** Longest line (one frame) in bytes, newline excluded. 64 KiB holds any chat message with
   *  room to spare while bounding what one connection can make the server buffer. */
  maxFrameBytes: count({
    flag: "--max-frame-bytes <n>",
    help: "longest frame (line) in bytes",
    default: 64 * 1024,
    min: 256,
    max: 16 * MIB,
    unit: "bytes",
  }),
  /** Longest message text, in UTF-16 code units (JavaScript string length). 8,000 is a long
   *  essay answer; longer content belongs in a file transfer. */
  maxTextLength: count({
    flag: "--max-text-length <n>",
    help: "longest message text in characters",
    default: 8000,
    min: 1,
    max: MIB,
  }),
  /** Longest user name. 32 fits real names and student ids, and keeps lists readable. */
  maxNameLength: count({
    flag: "--max-name-length <n>",
    help: "longest user name",
    default: 32,
    min: 1,
    max: 256,
  }),
  /** Bytes that may wait in one connection's outgoing queue. 1 MiB absorbs bursts of thousands
   *  of chat lines for a briefly slow reader; a reader further behind is disconnected with
   *  SEND_QUEUE_EXCEEDED rather than allowed to grow the server's memory. */
  sendQueueBytes: count({
    flag: "--send-queue-bytes <n>",
    help: "outgoing bytes queued per client before it is disconnected",
    default: MIB,
    min: 1024,
    max: 1024 * MIB,
    unit: "bytes",
  }),
  /** Wrong passwords for one account from one client address within loginWindowMs; one
   *  more and that (account, address) pair gets RATE_LIMITED until the oldest failure leaves
   *  the window. Counted per pair, not per account, so a stranger's guesses lock out only the
   *  stranger: the owner logs in from any other address, and resumes with a token from any.
   *  5 forgives typos and holds one address to 5 guesses per 15 minutes per account. */
  loginFailuresPerAccount: count({
    flag: "--login-failures-per-account <n>",
    help: "wrong passwords for one account from one address within the login window before " +
      "that address is refused for that account (the owner elsewhere is not)",
    default: 5,
    min: 1,
    max: 1000,
  }),
  /** Failed password logins per client address within loginWindowMs, across accounts; past
   *  it the address may not sign up, nor log in to accounts that never logged in from it.
   *  Higher than per account because a whole class may sit behind one campus NAT address;
   *  it stops one machine trying many names. An account's login from an address it logged
   *  in from before is held only to loginFailuresPerAccount, so a stranger on the NAT who
   *  uses this up cannot keep out the classmates who log in from there. */
  loginFailuresPerAddress: count({
    flag: "--login-failures-per-address <n>",
    help: "failed password logins per client address within the login window, past which it may " +
      "not sign up or log in to accounts never used from it (a class may share one NAT)",
    default: 50,
    min: 1,
    max: 100_000,
  }),
  /** Wrong or expired resume tokens per client address within loginWindowMs; one more is
   *  answered RATE_LIMITED (a valid token never is). A budget of its own, not
   *  loginFailuresPerAddress: a wrong token costs the server no hashing, and a stranger on a
   *  class's NAT address must not use up its password logins with them. A token is 256
   *  random bits, so no rate makes guessing one possible; this only stops a script replaying
   *  wrong tokens without end. 1000 lets every one of 200 classmates on one NAT
   *  (maxConnectionsPerAddress) come back with a stale token five times in the window. */
  loginBadTokensPerAddress: count({
    flag: "--login-bad-tokens-per-address <n>",
    help: "wrong resume tokens per client address within the login window (a budget apart from " +
      "passwords, so they cannot use up a shared address's logins)",
    default: 1000,
    min: 1,
    max: 1_000_000,
  }),
  /** The sliding window for the login-failure limits: 15 minutes. */
  loginWindowMs: seconds({
    flag: "--login-window <seconds>",
    help: "the sliding window for the login-failure limits",
    default: 15 * 60,
    min: 1,
    max: 7 * DAY,
  }),
  /** Wrong passwords for one account from all addresses within loginWindowMs past which
   *  password logins from addresses the account has not logged in from are slowed (see
   *  loginSlowdownMs): guessing from many addresses, which the per-pair limit cannot stop.
   *  20 is four people's worth of typos, far below what guessing needs. */
  loginSlowdownAfter: count({
    flag: "--login-slowdown-after <n>",
    help: "wrong passwords for one account from all addresses within the login window after " +
      "which logins to it from addresses it never used wait their turn",
    default: 20,
    min: 1,
    max: 1_000_000,
  }),
  /** While an account is slowed, password logins to it from unknown addresses are served one
   *  at a time, this many milliseconds apart, each address holding at most one place in the
   *  queue: a delay, never a lock. 2 s holds guessing to 450 tries per 15 minutes however
   *  many addresses it comes from, and costs a person on a new device a few seconds per
   *  address guessing at once. */
  loginSlowdownMs: count({
    flag: "--login-slowdown <ms>",
    help: "milliseconds between those turns (a delay, never a lock)",
    default: 2000,
    min: 0,
    max: 60_000,
    unit: "ms",
  }),
  /** Longest wait in that queue; an attempt that would wait longer is answered RATE_LIMITED
   *  with retryAfterMs at once. 30 s stays well inside loginTimeoutMs (60 s), and bounds the
   *  waiting attempts to 15 per account; with one place per address, only 15 or more
   *  addresses guessing at once can make the owner's new device wait that long. */
  loginSlowdownMaxWaitMs: seconds({
    flag: "--login-slowdown-max-wait <seconds>",
    help: "a login that would wait longer for its turn is refused with the time to wait",
    default: 30,
    min: 1,
    max: 3600,
  }),
  /** Connections open at once, logged in or not. Past it a new connection is told
   *  TOO_MANY_CONNECTIONS and closed, so a flood cannot exhaust file descriptors and memory;
   *  5,000 is several devices for each student of a very large course. */
  maxConnections: count({
    flag: "--max-connections <n>",
    help: "connections open at once, logged in or not",
    default: 5000,
    min: 1,
    max: 1_000_000,
  }),
  /** Connections open at once from one client address. 200 lets a whole class sit behind one
   *  campus NAT address while one machine cannot take every slot. */
  maxConnectionsPerAddress: count({
    flag: "--max-connections-per-address <n>",
    help: "connections open at once from one client address (a class may share one NAT)",
    default: 200,
    min: 1,
    max: 1_000_000,
  }),
  /** New connections a minute from one client address, after a burst of
   *  maxConnectionsPerAddress (a whole class behind one NAT reconnecting at once; at least 50). 600 (10 a
   *  second) is more than a class makes, and bounds what one address costs: a TLS connection
   *  whose peer leaves before its handshake ends holds memory until handshakeTimeoutMs passes
   *  (Deno's node:tls frees it only then; measured: about 25 KiB each), so an address opening
   *  and dropping connections as fast as it can would grow the server without this. Past it a
   *  connection is refused (TOO_MANY_CONNECTIONS) and closed. */
  connectionsPerAddressPerMinute: count({
    flag: "--connections-per-address-per-minute <n>",
    help: "new connections a minute from one client address, after a burst of" +
      " --max-connections-per-address",
    default: 600,
    min: 1,
    max: 100_000_000,
  }),
  /** Milliseconds a connection may take to log in before it is closed with LOGIN_TIMEOUT
   *  (slowloris: connections that never log in would hold slots for ever). 60 s leaves a
   *  person time to answer the client's first-contact and new-password prompts. */
  loginTimeoutMs: seconds({
    flag: "--login-timeout <seconds>",
    help: "close a connection that has not logged in after this long",
    default: 60,
    min: 1,
    max: 3600,
  }),
  /** Milliseconds a TLS connection may take to finish its handshake before its socket is
   *  closed. A real client finishes in one or two round trips (well under a second even on a
   *  lossy Wi-Fi link, where a lost packet costs 1 s, then 2 s, to retransmit); a socket that
   *  sends nothing would otherwise hold a connection slot and a file descriptor for as long
   *  as its peer likes. 10 s leaves room for three retransmissions. */
  handshakeTimeoutMs: seconds({
    flag: "--handshake-timeout <seconds>",
    help: "close a TLS connection whose handshake has not finished after this long",
    default: 10,
    min: 1,
    max: 600,
  }),
  /** Frames per second a connection may send, steadily (a token bucket refilled at this rate;
   *  0 turns the limit off, e.g. for load generation). A person types a few lines a second and
   *  the client paces itself to this; a script gone wrong is answered RATE_LIMITED with the
   *  time to wait. Frames of a windowed stream (file chunks and acks) cost nothing while they
   *  move a live transfer, which its window bounds; stray ones pay (HandlerCtx.meter). */
  framesPerSecond: count({
    flag: "--frames-per-second <n>",
    help: "frames a connection may send per second after its burst (0: no limit, for load runs)",
    default: 50,
    min: 0,
    max: 1_000_000,
  }),
  /** Frames a connection may send at once before the steady rate applies (the bucket's size):
   *  a login with its key and room lookups, or a pasted paragraph, fits in 200. */
  frameBurst: count({
    flag: "--frame-burst <n>",
    help: "frames a connection may send at once before --frames-per-second applies",
    default: 200,
    min: 1,
    max: 1_000_000,
  }),
  /** Malformed or refused frames (codes in VIOLATION_CODES) a connection may send per minute;
   *  one more closes it with TOO_MANY_ERRORS. 10 tolerates a buggy client's occasional slip,
   *  while a fuzzer or netcat pasting binary is cut off at once. */
  maxBadFramesPerMinute: count({
    flag: "--max-bad-frames <n>",
    help: "malformed or refused frames per connection per minute before it is closed",
    default: 10,
    min: 1,
    max: 1_000_000,
  }),
  /** Milliseconds of silence from a protocol client after which it is closed with
   *  IDLE_TIMEOUT; after half of it the server sends session.ping, which a live client
   *  answers. 120 s finds a laptop that vanished (no FIN) within two minutes at a cost of one
   *  small frame a minute per idle connection. Only whole lines count as being heard: a line
   *  that never ends does not keep a connection open. */
  idleTimeoutMs: seconds({
    flag: "--idle-timeout <seconds>",
    help: "close a client not heard from for this long (pinged after half of it)",
    default: 120,
    min: 2,
    max: DAY,
  }),
  /** The same for plain-text (nc) sessions, which cannot answer a ping: a person reading along
   *  types nothing for a while, so 30 minutes; at half of it the session is told, in a line,
   *  to type anything to stay. Closes the nc windows left open overnight. */
  textIdleTimeoutMs: seconds({
    flag: "--text-idle-timeout <seconds>",
    help:
      "close a plain-text (nc) session that sends no line for this long (told after half of it)",
    default: 30 * 60,
    min: 2,
    max: 7 * DAY,
  }),
} satisfies Record<string, Setting<number>>;

/** The limits a server runs with (milliseconds for times, bytes for sizes). */
export type Limits = { [K in keyof typeof LIMITS]: number };

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze(
  Object.fromEntries(Object.entries(LIMITS).map(([k, s]) => [k, s.fallback])) as Limits,
);

/** The order names are listed in (who, members): case- and accent-insensitive. One collator,
 *  made once: \`localeCompare\` with a locale makes an ICU collator per call, in native memory
 *  V8 does not count, which held the soak's RSS ~100 MB high between collections. */
export const NAME_ORDER = new Intl.Collator("en", { sensitivity: "base" });

/** Error codes that mean the peer broke the protocol (rather than asked for something it may
 *  not have): each counts against maxBadFramesPerMinute. */
export const VIOLATION_CODES: ReadonlySet<string> = new Set([
  "FRAME_TOO_LARGE",
  "BAD_UTF8",
  "BAD_JSON",
  "BAD_FRAME",
  "UNKNOWN_TYPE",
  "NOT_LOGGED_IN",
  "ALREADY_LOGGED_IN",
  "RATE_LIMITED",
]);

/** Protocol version spoken by this build; bumped only for incompatible changes. */
export const PROTOCOL_VERSION = 1;

/** User names: a letter or digit, then letters, digits, `_`, `-` or `.`. ASCII only so that
 *  case-insensitive uniqueness is exact and look-alike names cannot impersonate each other. */
export const NAME_SOURCE = "[A-Za-z0-9][A-Za-z0-9_.-]*";
export const NAME_PATTERN = new RegExp(`^${NAME_SOURCE}$`);

/** Names nobody may take: `server` is the plain-text mode's command prefix (`server:who`). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(["server", "you", "all", "everyone"]);
