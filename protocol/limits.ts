/**
 * Every limit the server enforces, with the reason for its default. `classchat serve` exposes each
 * as a command-line option, and each has a test that exceeds it.
 */
export interface Limits {
  /** Longest line (one frame) in bytes, newline excluded. 64 KiB holds any chat message with
   *  room to spare while bounding what one connection can make the server buffer. */
  maxFrameBytes: number;
  /** Longest message text, in UTF-16 code units (JavaScript string length). 8,000 is a long
   *  essay answer; longer content belongs in a file transfer. */
  maxTextLength: number;
  /** Longest user name. 32 fits real names and student ids, and keeps lists readable. */
  maxNameLength: number;
  /** Bytes that may wait in one connection's outgoing queue. 1 MiB absorbs bursts of thousands
   *  of chat lines for a briefly slow reader; a reader further behind is disconnected with
   *  SEND_QUEUE_EXCEEDED rather than allowed to grow the server's memory. */
  sendQueueBytes: number;
  /** Wrong passwords for one account from one client address within loginWindowMs; one
   *  more and that (account, address) pair gets RATE_LIMITED until the oldest failure leaves
   *  the window. Counted per pair, not per account, so a stranger's guesses lock out only the
   *  stranger: the owner logs in from any other address, and resumes with a token from any.
   *  5 forgives typos and holds one address to 5 guesses per 15 minutes per account. */
  loginFailuresPerAccount: number;
  /** Failed password logins per client address within loginWindowMs, across accounts; past
   *  it the address may not sign up, nor log in to accounts that never logged in from it.
   *  Higher than per account because a whole class may sit behind one campus NAT address;
   *  it stops one machine trying many names. An account's login from an address it logged
   *  in from before is held only to loginFailuresPerAccount, so a stranger on the NAT who
   *  uses this up cannot keep out the classmates who log in from there. */
  loginFailuresPerAddress: number;
  /** Wrong or expired resume tokens per client address within loginWindowMs; one more is
   *  answered RATE_LIMITED (a valid token never is). A budget of its own, not
   *  loginFailuresPerAddress: a wrong token costs the server no hashing, and a stranger on a
   *  class's NAT address must not use up its password logins with them. A token is 256
   *  random bits, so no rate makes guessing one possible; this only stops a script replaying
   *  wrong tokens without end. 1000 lets every one of 200 classmates on one NAT
   *  (maxConnectionsPerAddress) come back with a stale token five times in the window. */
  loginBadTokensPerAddress: number;
  /** The sliding window for the login-failure limits: 15 minutes. */
  loginWindowMs: number;
  /** Wrong passwords for one account from all addresses within loginWindowMs past which
   *  password logins from addresses the account has not logged in from are slowed (see
   *  loginSlowdownMs): guessing from many addresses, which the per-pair limit cannot stop.
   *  20 is four people's worth of typos, far below what guessing needs. */
  loginSlowdownAfter: number;
  /** While an account is slowed, password logins to it from unknown addresses are served one
   *  at a time, this many milliseconds apart, each address holding at most one place in the
   *  queue: a delay, never a lock. 2 s holds guessing to 450 tries per 15 minutes however
   *  many addresses it comes from, and costs a person on a new device a few seconds per
   *  address guessing at once. */
  loginSlowdownMs: number;
  /** Longest wait in that queue; an attempt that would wait longer is answered RATE_LIMITED
   *  with retryAfterMs at once. 30 s stays well inside loginTimeoutMs (60 s), and bounds the
   *  waiting attempts to 15 per account; with one place per address, only 15 or more
   *  addresses guessing at once can make the owner's new device wait that long. */
  loginSlowdownMaxWaitMs: number;
  /** Connections open at once, logged in or not. Past it a new connection is told
   *  TOO_MANY_CONNECTIONS and closed, so a flood cannot exhaust file descriptors and memory;
   *  5,000 is several devices for each student of a very large course. */
  maxConnections: number;
  /** Connections open at once from one client address. 200 lets a whole class sit behind one
   *  campus NAT address while one machine cannot take every slot. */
  maxConnectionsPerAddress: number;
  /** New connections a minute from one client address, after a burst of
   *  maxConnectionsPerAddress (a whole class behind one NAT reconnecting at once; at least 50). 600 (10 a
   *  second) is more than a class makes, and bounds what one address costs: a TLS connection
   *  whose peer leaves before its handshake ends holds memory until handshakeTimeoutMs passes
   *  (Deno's node:tls frees it only then; measured: about 25 KiB each), so an address opening
   *  and dropping connections as fast as it can would grow the server without this. Past it a
   *  connection is refused (TOO_MANY_CONNECTIONS) and closed. */
  connectionsPerAddressPerMinute: number;
  /** Milliseconds a TLS connection may take to finish its handshake before its socket is
   *  closed. A real client finishes in one or two round trips (well under a second even on a
   *  lossy Wi-Fi link, where a lost packet costs 1 s, then 2 s, to retransmit); a socket that
   *  sends nothing would otherwise hold a connection slot and a file descriptor for as long
   *  as its peer likes. 10 s leaves room for three retransmissions. */
  handshakeTimeoutMs: number;
  /** Milliseconds a connection may take to log in before it is closed with LOGIN_TIMEOUT
   *  (slowloris: connections that never log in would hold slots for ever). 60 s leaves a
   *  person time to answer the client's first-contact and new-password prompts. */
  loginTimeoutMs: number;
  /** Frames per second a connection may send, steadily (a token bucket refilled at this rate;
   *  0 turns the limit off, e.g. for load generation). A person types a few lines a second and
   *  the client paces itself to this; a script gone wrong is answered RATE_LIMITED with the
   *  time to wait. Frames of a windowed stream (file chunks and acks) cost nothing while they
   *  move a live transfer, which its window bounds; stray ones pay (HandlerCtx.meter). */
  framesPerSecond: number;
  /** Frames a connection may send at once before the steady rate applies (the bucket's size):
   *  a login with its key and room lookups, or a pasted paragraph, fits in 200. */
  frameBurst: number;
  /** Malformed or refused frames (codes in VIOLATION_CODES) a connection may send per minute;
   *  one more closes it with TOO_MANY_ERRORS. 10 tolerates a buggy client's occasional slip,
   *  while a fuzzer or netcat pasting binary is cut off at once. */
  maxBadFramesPerMinute: number;
  /** Milliseconds of silence from a protocol client after which it is closed with
   *  IDLE_TIMEOUT; after half of it the server sends session.ping, which a live client
   *  answers. 120 s finds a laptop that vanished (no FIN) within two minutes at a cost of one
   *  small frame a minute per idle connection. Only whole lines count as being heard: a line
   *  that never ends does not keep a connection open. */
  idleTimeoutMs: number;
  /** The same for plain-text (nc) sessions, which cannot answer a ping: a person reading along
   *  types nothing for a while, so 30 minutes; at half of it the session is told, in a line,
   *  to type anything to stay. Closes the nc windows left open overnight. */
  textIdleTimeoutMs: number;
  /** Days the message log keeps a message; 0 keeps everything. Keeping forever is the safe
   *  default: pruning also deletes messages whose recipient has not connected since. */
  retentionDays: number;
}

/** The order names are listed in (who, members): case- and accent-insensitive. One collator,
 *  made once: \`localeCompare\` with a locale makes an ICU collator per call, in native memory
 *  V8 does not count, which held the soak's RSS ~100 MB high between collections. */
export const NAME_ORDER = new Intl.Collator("en", { sensitivity: "base" });

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFrameBytes: 64 * 1024,
  maxTextLength: 8000,
  maxNameLength: 32,
  sendQueueBytes: 1024 * 1024,
  loginFailuresPerAccount: 5,
  loginFailuresPerAddress: 50,
  loginBadTokensPerAddress: 1000,
  loginWindowMs: 15 * 60 * 1000,
  loginSlowdownAfter: 20,
  loginSlowdownMs: 2000,
  loginSlowdownMaxWaitMs: 30_000,
  retentionDays: 0,
  maxConnections: 5000,
  maxConnectionsPerAddress: 200,
  connectionsPerAddressPerMinute: 600,
  loginTimeoutMs: 60_000,
  handshakeTimeoutMs: 10_000,
  framesPerSecond: 50,
  frameBurst: 200,
  maxBadFramesPerMinute: 10,
  idleTimeoutMs: 120_000,
  textIdleTimeoutMs: 30 * 60_000,
});

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
