/**
 * The values tests/core/fuzz_gen.ts draws from: frame types and their fields, names, rooms,
 * numbers and strings chosen to sit on or past an edge.
 */

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
export const TYPES = Object.keys(FIELDS);
export const PROTO = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
];
/** Names to log in as or look up; fuzz connections log in as fz<slot>n<count>, which only
 *  appear as receivers here (a fuzzed login must not take or create one of them). */
export const NAMES = ["Alice", "bob", "CAROL", "nobody", "server", "", ...PROTO];
export const RECEIVERS = [...NAMES, "fz0n0", "fz1n1", "fz2n1", "fz3n2"];
export const ROOMS = [
  "fuzzroom",
  "wellroom",
  "#fuzzroom",
  "@wellroom",
  "a b",
  "x".repeat(33),
  ...PROTO,
];
export const NUMS = [
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
export const ALPHABET =
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,!?#@é€😀";
export const STRINGS = [
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
export const BAD_UTF8 = [
  [0x80],
  [0xff],
  [0xfe, 0xfe],
  [0xc0, 0x80],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];
