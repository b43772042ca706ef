/**
 * Builders of frames for tests/core/fuzz_gen.ts: random text, absurd JSON values, real frame
 * types with broken fields, and well-formed file-transfer frames.
 */
import type { Rng } from "../../bench/rng.ts";
import {
  ALPHABET,
  FIELDS,
  NAMES,
  NUMS,
  PROTO,
  RECEIVERS,
  ROOMS,
  STRINGS,
  TYPES,
} from "./fuzz_values.ts";

export const enc = new TextEncoder();
export const str = (s: string) => JSON.stringify(s);

export function randText(r: Rng, max = 40): string {
  let s = "";
  for (let n = r.int(max) + 1; n > 0; n--) s += ALPHABET[r.int(ALPHABET.length)];
  return s;
}

/** A value of any JSON type, as JSON text, often absurd. */
export function weird(r: Rng, depth = 0): string {
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
export function plausible(r: Rng, key: string): string {
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

export function obj(pairs: Array<[string, string]>): string {
  return `{${pairs.map(([k, v]) => `${str(k)}:${v}`).join(",")}}`;
}

/** A real type with fields missing, of the wrong type, absurd, or extra. */
export function realType(r: Rng, t = r.pick(TYPES)): string {
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

export const bytes = (...parts: Array<string | number[] | Uint8Array>) => {
  const chunks = parts.map((p) => typeof p === "string" ? enc.encode(p) : new Uint8Array(p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) out.set(c, off), off += c.length;
  return out;
};

/** Well-formed file-transfer frames: offers to people who may be online (fuzz sessions are
 *  fz<slot>n<count>; Alice is a well-behaved client), then chunks, acks, ends, verdicts and
 *  cancels. Their ids and indexes are placeholders that FuzzConn.fill replaces as it writes
 *  (`"@F<k>"` a transfer id it was given, `"@C"` its next chunk, `"@A"` the last chunk it
 *  got), so they move live transfers; a fifth keep random ones, to hit others' or none. */
export function fileStream(r: Rng): string {
  const real = r.chance(0.8);
  const file: [string, string] = ["file", str(real ? `@F${r.int(1000)}` : `f${1 + r.int(60)}`)];
  const n = (mark: string): [string, string] => ["n", real ? str(mark) : String(r.int(10))];
  const type = (t: string): [string, string] => ["type", str(`sendfile.${t}`)];
  switch (r.pick(["offer", "offer", "chunk", "chunk", "chunk", "ack", "ack", "end", "end"])) {
    case "offer": {
      const to: [string, string] = r.chance(0.8)
        ? ["to", str(r.pick(["Alice", "nobody", `fz${r.int(6)}n${r.int(8)}`]))]
        : ["room", str(r.pick(["fuzzroom", "wellroom"]))];
      const size = r.pick(["0", "3", "100", "40000", "1000000"]);
      return obj([type("offer"), ["id", str(`z${r.int(1e6)}`)], to, ["name", str("a.pdf")], [
        "size",
        size,
      ]]);
    }
    case "chunk": // up to a whole chunk of base64, or one byte past it
      return obj([type("chunk"), file, n("@C"), [
        "data",
        str("QUJD".repeat(r.pick([1, 25, 1000, 10923]))),
      ]]);
    case "ack":
      return obj([type("ack"), file, n("@A")]);
    case "end":
      return r.pick([
        obj([type("end"), file, ["sha256", str("0a".repeat(32))]]),
        obj([type("verdict"), file, ["ok", r.pick(["true", "false"])]]),
        obj([type("cancel"), file, ["reason", str(randText(r))]]),
      ]);
  }
  throw new Error("unreachable");
}
