/**
 * Seeded generators of malformed input for tests/core/fuzz_test.ts (fuzz_conn.ts writes them).
 * The same seed gives the same frames (per fuzz slot), so a failure can be replayed.
 */
import type { Rng } from "../../bench/rng.ts";
import { binaryFrame } from "../../protocol/framing.ts";
import { bytes, enc, fileStream, obj, randText, realType, str, weird } from "./fuzz_frames.ts";
import { BAD_UTF8, NAMES, NUMS, PROTO, RECEIVERS, ROOMS, STRINGS, TYPES } from "./fuzz_values.ts";

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
  ["file-stream", 6, fileStream],
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
    // 0x01 starting a frame (here or after a newline) is a binary frame's mark: the server
    // then waits for the length it declares, as for a line's newline. Binary frames are
    // fuzzed whole, below.
    b.forEach((x, i) => (x === 0x01 && (i === 0 || b[i - 1] === 0x0a)) && (b[i] = 0x02));
    return bytes(b);
  }],
  // 0x01, length, header line, body: whole, with a header that is a frame, garbage or nothing,
  // a body of anything (newlines too), and now and then over the frame limit.
  ["binary-frame", 3, (r, max) => {
    const header = r.pick([
      realType(r),
      '{"type":"sendfile.chunk","file":"f1","n":0}',
      '{"type":"sendfile.chunk","file":"f1","n":0,"data":"AAAA"}',
      randText(r, 40),
      "",
      "{",
    ]);
    const head = r.chance(0.1) ? enc.encode(header) : enc.encode(header + "\n");
    const size = r.chance(0.05) ? max + 1 + r.int(100) : r.int(300);
    const body = Array.from({ length: Math.max(0, size - head.length) }, () => r.int(256));
    return binaryFrame(bytes(head, body));
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

/** One malformed item: its kind and bytes, newline included; for a file offer, its id. */
export function generate(
  r: Rng,
  maxFrame: number,
): { kind: string; bytes: Uint8Array; offer?: string } {
  let w = r.next() * TOTAL_WEIGHT;
  const k = KINDS.find(([, weight]) => (w -= weight) < 0) ?? KINDS[0];
  const out = k[2](r, maxFrame);
  if (typeof out !== "string") return { kind: k[0], bytes: bytes(out, "\n") };
  const offer = k[0] === "file-stream"
    ? out.match(/"sendfile\.offer","id":"(z\d+)"/)?.[1]
    : undefined;
  return { kind: k[0], bytes: enc.encode(out + "\n"), offer };
}
