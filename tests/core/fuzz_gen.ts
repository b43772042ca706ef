/**
 * Seeded generators of malformed input for tests/core/fuzz_test.ts (fuzz_conn.ts writes them).
 * The same seed gives the same frames (per fuzz slot), so a failure can be replayed.
 */
import type { Rng } from "../../bench/rng.ts";

/** Every client-to-server frame type the plugins register, with its fields. (session.quit is
 *  left out: any frame of that type is a valid quit.) */
export const FIELDS: Record<string, string[]> = {
  "session.account": ["name"],
  "session.login": ["name", "password"],
  "session.resume": ["name", "token"],
  "session.passwd": ["old", "password"],
  "session.ping": [],
  "session.ack": ["upTo"],
  "presence.who": [],
  "dm.send": ["receiver", "text", "sealed"],
  "groups.create": ["room", "private"],
  "groups.join": ["room"],
  "groups.leave": ["room"],
  "groups.list": [],
  "groups.members": ["room"],
  "groups.send": ["room", "text"],
  "groups.kick": ["room", "name"],
  "groups.op": ["room", "name"],
  "groups.invite": ["room", "name"],
  "groups.announce": ["room", "on"],
  "offline.history": ["with", "limit", "before"],
  "sendfile.offer": ["to", "room", "name", "size", "sealed"],
  "sendfile.chunk": ["file", "n", "data"],
  "sendfile.ack": ["file", "n"],
  "sendfile.end": ["file", "sha256", "check"],
  "sendfile.verdict": ["file", "ok"],
  "sendfile.cancel": ["file", "reason"],
  "encrypt.publish": ["key"],
  "encrypt.key": ["name"],
};
const TYPES = Object.keys(FIELDS);
const PROTO = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf"];
/** Names to log in as or look up; fuzz connections log in as fz<slot>n<count>, which only
 *  appear as receivers here (a fuzzed login must not take or create one of them). */
const NAMES = ["Alice", "bob", "CAROL", "nobody", "server", "", ...PROTO];
const RECEIVERS = [...NAMES, "fz0n0", "fz1n1", "fz2n1", "fz3n2"];
const ROOMS = ["fuzzroom", "wellroom", "#fuzzroom", "@wellroom", "a b", "x".repeat(33), ...PROTO];
const NUMS = [
  "0",
  "-1",
  "1.5",
  "-0",
  "1e308",
  "-1e400",
  "1e400",
  "9007199254740993",
  "123456789012345678901234567890",
  "4e-400",
  "201",
];
/** Random text never contains ':' so nothing generated can look like `file.ts:12:5`. */
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,!?#@é€😀";
const STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u001b[2J\u001b[H\u001b[31mred",
  "\u001b]0;title\u0007",
  "line\r\nFAKE 2",
  "\t",
  "\u0085\u009b",
  "\u2028\u2029",
  "\u202egnp.exe",
  "\ud800",
  "\udc00\ud800",
  '"',
  "\\",
  "%s%d%n",
  "${x}",
  "<script>",
  "../../etc/passwd",
  "null",
  "x".repeat(8001),
  "é".repeat(4001),
  ...PROTO,
];
/** Stray continuation, invalid bytes, overlong NUL, truncated sequence, a UTF-16 surrogate,
 *  past U+10FFFF, a 5-byte form. */
const BAD_UTF8 = [
  [0x80],
  [0xff],
  [0xfe, 0xfe],
  [0xc0, 0x80],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

const enc = new TextEncoder();
const str = (s: string) => JSON.stringify(s);

function randText(r: Rng, max = 40): string {
  let s = "";
  for (let n = r.int(max) + 1; n > 0; n--) s += ALPHABET[r.int(ALPHABET.length)];
  return s;
}

/** A value of any JSON type, as JSON text, often absurd. */
function weird(r: Rng, depth = 0): string {
  switch (r.int(depth > 2 ? 4 : 6)) {
    case 0:
      return r.pick(["null", "true", "false"]);
    case 1:
      return r.pick(NUMS);
    case 2:
      return str(r.pick(STRINGS));
    case 3:
      return str(randText(r));
    case 4:
      return `[${Array.from({ length: r.int(4) }, () => weird(r, depth + 1)).join(",")}]`;
    default:
      return obj(
        Array.from(
          { length: r.int(4) },
          () => [r.pick([...PROTO, "a", "type"]), weird(r, depth + 1)],
        ),
      );
  }
}

/** A value that might pass its field's check. */
function plausible(r: Rng, key: string): string {
  switch (key) {
    case "name":
      return str(r.pick(NAMES));
    case "receiver":
    case "to":
      return str(r.pick(RECEIVERS));
    case "with":
      return str(r.pick(["", "#", "@"]) + r.pick([...NAMES, ...ROOMS]));
    case "room":
      return str(r.pick(ROOMS));
    case "text":
    case "reason":
      return str(r.chance(0.5) ? randText(r) : r.pick(STRINGS));
    case "password":
    case "old":
    case "token":
      return str(r.pick(["short", "longenough1", randText(r), "p".repeat(5000)]));
    case "file":
      return str(r.pick(["f1", "f2", "f0", "f999999", "x", ...PROTO]));
    case "data":
      return str(r.pick(["", "AAAA", "A===", "AAA", "!!!!", "AA==".repeat(r.int(100))]));
    case "sha256":
      return str(r.pick(["0", "f", "F", "g"]).repeat(r.pick([63, 64, 65])));
    case "key":
    case "check":
      return str(r.pick(["", "abc", "A".repeat(43), "_".repeat(43), randText(r)]));
    case "sealed":
      return r.chance(0.5) ? "{}" : `{"v":1,"box":${str(randText(r))}}`;
    case "private":
    case "on":
    case "ok":
      return r.pick(["true", "false", '"true"', "1", "null"]);
    default:
      return r.pick(NUMS);
  }
}

function obj(pairs: Array<[string, string]>): string {
  return `{${pairs.map(([k, v]) => `${str(k)}:${v}`).join(",")}}`;
}

/** A real type with fields missing, of the wrong type, absurd, or extra. */
function realType(r: Rng, t = r.pick(TYPES)): string {
  const pairs: Array<[string, string]> = [["type", str(t)]];
  if (r.chance(0.3)) pairs.push(["id", r.chance(0.7) ? str(`z${r.int(1e6)}`) : weird(r)]);
  for (const k of FIELDS[t]) {
    if (r.chance(0.15)) continue;
    pairs.push([k, r.chance(0.55) ? plausible(r, k) : weird(r)]);
  }
  for (let n = r.chance(0.3) ? r.int(4) : 0; n > 0; n--) {
    pairs.push([r.pick([...PROTO, "type", "extra", randText(r, 8)]), weird(r)]);
  }
  return obj(r.chance(0.1) ? pairs.reverse() : pairs);
}

const bytes = (...parts: Array<string | number[] | Uint8Array>) => {
  const chunks = parts.map((p) => typeof p === "string" ? enc.encode(p) : new Uint8Array(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) out.set(c, off), off += c.length;
  return out;
};

type Gen = (r: Rng, maxFrame: number) => string | Uint8Array;
/** Each kind of malformed input, with its weight (relative frequency). */
const KINDS: Array<[string, number, Gen]> = [
  ["bad-json", 8, (r) =>
    r.pick([
      "{not json",
      "{'type':'dm.send'}",
      "{type:dm.send}",
      '{"type":"dm.send",}',
      '{"type":"session.ping"}}',
      '{"type" "x"}',
      '{"type":NaN}',
      '{"type":undefined}',
      '{"a":1e}',
      '{"type":"dm.send","text":"\\x41"}',
      '{"type":"dm.send","text":"\\ud83"}',
      "{" + randText(r),
    ])],
  ["truncated", 8, (r) => {
    const f = realType(r);
    return f.slice(0, 1 + r.int(f.length - 1));
  }],
  [
    "non-object",
    6,
    (r) =>
      r.pick([
        "[]",
        "[1,2,3]",
        '["dm.send"]',
        "0",
        "-1e400",
        '"dm.send"',
        "null",
        "true",
        weird(r),
      ]),
  ],
  ["bad-type", 8, (r) =>
    obj([[
      "type",
      r.pick([
        "42",
        "null",
        "[]",
        "{}",
        "true",
        ...[
          "",
          "DM.SEND",
          "dm send",
          "dm..send",
          ".dm",
          "dm.",
          "1dm.send",
          "é.x",
          "dm.send\u0000",
          "t".repeat(65),
          ...PROTO,
        ].map(str),
      ]),
    ], ["text", str(randText(r))]])],
  ["missing-type", 3, (r) => obj([["receiver", str("bob")], ["text", weird(r)]])],
  ["unknown-type", 6, (r) =>
    realType(r, "dm.send").replace(
      '"dm.send"',
      str(r.pick([
        "nosuch.thing",
        "dm.sendx",
        "session",
        "session.closing",
        "ack",
        "error",
        "welcome",
        "dm.message",
        "sendfile.credit",
        "a.b.c.d.e",
        "t".repeat(64),
      ])),
    )],
  ["real-type-bad-fields", 30, (r) => realType(r)],
  ["huge-number", 5, (r) => {
    const t = r.pick(["session.ack", "offline.history", "sendfile.offer", "sendfile.chunk"]);
    return realType(r, t).replace(/:(-?[0-9][0-9.e+-]*)/, `:${r.pick(NUMS.slice(4))}`);
  }],
  ["near-limit", 0.5, (r, max) => {
    const head = `{"type":"dm.send","receiver":"fz1n1","text":"`;
    return head + "a".repeat(max - r.int(16) - head.length - 2) + '"}';
  }],
  [
    "over-limit",
    0.5,
    (r, max) => `{"type":"groups.send","text":"${"b".repeat(max + r.int(2000))}"}`,
  ],
  ["deep-nesting", 1.5, (r) => {
    const d = r.pick([1000, 10_000, 10_000, 30_000]);
    const [open, close] = r.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
    const field = r.pick(["text", "sealed", "receiver", "id"]);
    return `{"type":"dm.send","receiver":"fz1n1","${field}":${open.repeat(d)}1${close.repeat(d)}}`;
  }],
  ["invalid-utf8", 5, (r) => {
    const bad = r.pick(BAD_UTF8);
    return r.chance(0.7)
      ? bytes('{"type":"dm.send","receiver":"fz1n1","text":"', bad, '"}')
      : bytes(bad, randText(r));
  }],
  [
    "nul",
    4,
    (r) =>
      r.chance(0.5)
        ? bytes('{"type":"dm.send","text":"a', [0], 'b"}')
        : realType(r).replace(/"([^"]*)"/, r.chance(0.5) ? '"$1\\u0000"' : '"\\u0000$1"'),
  ],
  ["control-ansi", 5, (r) =>
    obj([
      ["type", str(r.pick(["dm.send", "groups.send", "groups.create", "session.login"]))],
      ["receiver", str(r.pick(["fz1n1", "Alice\u001b[2J"]))],
      ["room", str(r.pick(["fuzzroom", "fuzz\u0007room"]))],
      ["name", str("fz\u001b[31m1")],
      ["text", str(r.pick(STRINGS.slice(2, 12)) + randText(r))],
    ])],
  ["proto-keys", 5, (r) =>
    obj([
      ["__proto__", r.pick(['{"polluted":true}', '{"type":"session.ping"}', "null"])],
      ["type", str(r.pick(TYPES))],
      ["constructor", '{"prototype":{"polluted":true}}'],
      [r.pick(PROTO), weird(r)],
      ["receiver", str(r.pick(PROTO))],
      ["room", str(r.pick(PROTO))],
    ])],
  ["binary", 3, (r) => {
    const b = Array.from({ length: 1 + r.int(200) }, () => r.int(256));
    if (r.chance(0.2)) b.unshift(0x16, 0x03, 0x01, 0x02, 0x00, 0x01); // a TLS ClientHello start
    return bytes(b);
  }],
  ["crlf", 4, (r) => {
    const f = realType(r);
    const cut = r.int(f.length);
    return r.pick([
      `${f}\r`,
      `${f}\r\r`,
      "\r",
      `${f.slice(0, cut)}\r${f.slice(cut)}`,
      `${f.slice(0, cut)}\r\n${f.slice(cut)}`,
    ]);
  }],
  [
    "long-no-newline",
    0.1,
    (r, max) => randText(r, 60).repeat(Math.ceil((max * (1 + r.int(4))) / 30)),
  ],
  // Plain-text (nc) lines: in a JSON session bad JSON, in a plain-text one commands.
  ["text-line", 2, (r) =>
    r.pick([
      `${r.pick(RECEIVERS)}: ${randText(r)}`,
      `@${r.pick(ROOMS)} ${r.pick(STRINGS)}`,
      "server:who",
      `/join ${r.pick(ROOMS)}`,
      `server:register ${r.pick(NAMES)} ${randText(r)}`,
      `/history ${r.pick(NAMES)} ${r.pick(NUMS)}`,
      `/${randText(r, 10)}`,
    ])],
  ["empty", 3, (r) => r.pick(["", " ", "\t", "   \t  "])],
];
const TOTAL_WEIGHT = KINDS.reduce((n, k) => n + k[1], 0);

/** One malformed item: its kind and bytes, newline included. */
export function generate(r: Rng, maxFrame: number): { kind: string; bytes: Uint8Array } {
  let w = r.next() * TOTAL_WEIGHT;
  const k = KINDS.find(([, weight]) => (w -= weight) < 0) ?? KINDS[0];
  const out = k[2](r, maxFrame);
  return { kind: k[0], bytes: typeof out === "string" ? enc.encode(out + "\n") : bytes(out, "\n") };
}

/** Text that looks like a stack trace or an internal exception reaching a client. */
