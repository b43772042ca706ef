import assert from "node:assert/strict";
import { parseDuration, parseSize } from "../../protocol/units.ts";
import { duration, size } from "../../protocol/settings.ts";

const sizeOption = size({ flag: "--s <size>", help: "", default: "1" });
const durationOption = duration({ flag: "--d <duration>", help: "", default: "0" });

Deno.test("units - sizes: plain counts, SI and binary units, any case, spaces around", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["1048576", 1048576],
    ["17b", 17],
    ["500k", 500_000],
    ["64KiB", 64 * 1024],
    ["512 KiB", 512 * 1024],
    ["10MB", 10_000_000],
    ["100MiB", 100 * 1024 ** 2],
    ["100mib", 100 * 1024 ** 2],
    ["1.5GB", 1_500_000_000],
    ["1GiB", 1024 ** 3],
    [" 2 TiB ", 2 * 1024 ** 4],
    ["1.5k", 1500],
  ];
  for (const [text, n] of cases) assert.equal(parseSize(text), n, text);
});

Deno.test("units - sizes that do not read as one are refused", () => {
  for (const text of ["", "MB", "-1", "1e3", "1,000", "10 XB", "1.MB", "0x10", "1 0MB", "1PB"]) {
    assert.equal(parseSize(text), undefined, text);
    assert.throws(() => sizeOption.read([text]), /expected a size/);
  }
  assert.equal(parseSize("9000000TB"), undefined, "past the safe integers");
  assert.equal(sizeOption.read(["100MiB"]), 100 * 1024 ** 2);
});

Deno.test("units - durations", () => {
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("90m"), 90 * 60_000);
  assert.equal(parseDuration("12H"), 12 * 3_600_000);
  assert.equal(parseDuration("14d"), 14 * 86_400_000);
  assert.equal(parseDuration("2w"), 14 * 86_400_000);
  for (const text of ["", "14", "0d", "1y", "-1d", "d"]) {
    assert.equal(parseDuration(text), undefined, text);
    assert.throws(() => durationOption.read([text]), /expected a duration/);
  }
  assert.equal(durationOption.read(["14d"]), 14 * 86_400_000);
});
