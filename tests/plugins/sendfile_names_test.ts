import assert from "node:assert/strict";
import {
  createPart,
  MAX_FILE_NAME_BYTES,
  safeFileName,
  saveUnique,
} from "../../plugins/sendfile/names.ts";

const encoder = new TextEncoder();
const byteLength = (s: string) => encoder.encode(s).length;

/** Runs `fn` with a fresh temporary directory, removed afterwards whatever happens. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "classchat-sendfile-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A finished temporary file with `text` in it, as a transfer would leave it. */
async function part(dir: string, name: string, text: string): Promise<string> {
  const { path, file } = await createPart(dir, name);
  await file.write(encoder.encode(text));
  file.close();
  return path;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

Deno.test("sendfile names - path components are dropped", () => {
  assert.equal(safeFileName("../../etc/passwd"), "passwd");
  assert.equal(safeFileName("/abs/path"), "path");
  assert.equal(safeFileName("C:\\x\\y.txt"), "y.txt");
  assert.equal(safeFileName("..\\..\\boot.ini"), "boot.ini");
  assert.equal(safeFileName("dir/"), "file");
});

Deno.test("sendfile names - control and bidi characters are removed", () => {
  assert.equal(safeFileName("a\nb.txt"), "ab.txt");
  assert.equal(safeFileName("a\u0000b\u007fc\u009f.txt"), "abc.txt");
  // Shown as "evilexe.jpg" by a terminal that honours the right-to-left override.
  assert.equal(safeFileName("evil\u202egpj.exe"), "evilgpj.exe");
  assert.equal(safeFileName("x\u2066y\u2069\u200f.txt"), "xy.txt");
  assert.equal(safeFileName("\r\n\t"), "file");
});

Deno.test("sendfile names - never hidden, '.' or '..'", () => {
  assert.equal(safeFileName(".."), "file");
  assert.equal(safeFileName("."), "file");
  assert.equal(safeFileName(""), "file");
  assert.equal(safeFileName("   "), "file");
  assert.equal(safeFileName(".bashrc"), "bashrc");
  assert.equal(safeFileName(" . .profile"), "profile");
  assert.equal(safeFileName("trailing. . "), "trailing");
  assert.equal(safeFileName("  spaced name.txt  "), "spaced name.txt");
});

Deno.test("sendfile names - characters and names Windows refuses", () => {
  assert.equal(safeFileName("a<b>c.txt"), "a_b_c.txt");
  assert.equal(safeFileName('what: "why"|how?*'), "what_ _why__how__");
  assert.equal(safeFileName("CON.txt"), "_CON.txt");
  assert.equal(safeFileName("con"), "_con");
  assert.equal(safeFileName("Lpt9.tar.gz"), "_Lpt9.tar.gz");
  assert.equal(safeFileName("nul .txt"), "_nul .txt");
  assert.equal(safeFileName("COM1"), "_COM1");
  assert.equal(safeFileName("console.txt"), "console.txt");
  assert.equal(safeFileName("com10.txt"), "com10.txt");
});

Deno.test("sendfile names - long names are cut by UTF-8 bytes, keeping the extension", () => {
  const long = "日".repeat(100) + ".txt"; // 304 bytes
  const out = safeFileName(long);
  assert.ok(byteLength(out) <= MAX_FILE_NAME_BYTES, `${byteLength(out)} bytes`);
  assert.ok(out.endsWith(".txt"));
  assert.equal(out, "日".repeat(65) + ".txt"); // 195 + 4 bytes: one more would not fit
  // Valid UTF-8: a fatal decoder accepts it and gives the same string back.
  const bytes = encoder.encode(out);
  assert.equal(new TextDecoder("utf-8", { fatal: true }).decode(bytes), out);

  // Four-byte characters are surrogate pairs in JavaScript: neither half may be left alone.
  const emoji = safeFileName("😀".repeat(80) + ".jpeg");
  assert.ok(byteLength(emoji) <= MAX_FILE_NAME_BYTES);
  assert.ok(emoji.isWellFormed());
  assert.ok(emoji.endsWith(".jpeg"));

  // No extension (or one too long to be one): the whole name is cut.
  const plain = safeFileName("é".repeat(150));
  assert.equal(plain, "é".repeat(100));
  const odd = safeFileName("a".repeat(250) + "." + "b".repeat(20));
  assert.equal(odd, "a".repeat(MAX_FILE_NAME_BYTES));
});

Deno.test("sendfile names - ordinary names are unchanged, and results are stable", () => {
  for (const name of ["notes.pdf", "Photo 2024-05-01.jpg", "résumé.docx", "archive.tar.gz"]) {
    assert.equal(safeFileName(name), name);
  }
  assert.equal(safeFileName("lone\ud800.txt"), "lone\ufffd.txt");
  const hostile = [
    "../../etc/passwd",
    "a\nb.txt",
    "evil\u202egpj.exe",
    "..",
    "CON.txt",
    "a<b>c.txt",
    "日".repeat(100) + ".txt",
    "x".repeat(300),
    " .hidden. ",
  ];
  for (const name of hostile) {
    const once = safeFileName(name);
    assert.equal(safeFileName(once), once, JSON.stringify(name));
  }
});

Deno.test("sendfile names - saveUnique never overwrites and numbers copies", async () => {
  await withTempDir(async (dir) => {
    const p1 = await part(dir, "notes.pdf", "one");
    assert.equal(await saveUnique(p1, dir, "notes.pdf"), `${dir}/notes.pdf`);
    assert.equal(await exists(p1), false);

    const p2 = await part(dir, "notes.pdf", "two");
    assert.equal(await saveUnique(p2, dir, "notes.pdf"), `${dir}/notes (1).pdf`);
    assert.equal(await exists(p2), false);

    const p3 = await part(dir, "notes.pdf", "three");
    assert.equal(await saveUnique(p3, dir, "notes.pdf"), `${dir}/notes (2).pdf`);
    assert.equal(await exists(p3), false);

    assert.equal(await Deno.readTextFile(`${dir}/notes.pdf`), "one");
    assert.equal(await Deno.readTextFile(`${dir}/notes (1).pdf`), "two");
    assert.equal(await Deno.readTextFile(`${dir}/notes (2).pdf`), "three");
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["notes (1).pdf", "notes (2).pdf", "notes.pdf"]);
  });
});

Deno.test("sendfile names - saveUnique keeps a file the person already had", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/report`, "mine");
    const p = await part(dir, "report", "theirs");
    assert.equal(await saveUnique(p, dir, "report"), `${dir}/report (1)`);
    assert.equal(await Deno.readTextFile(`${dir}/report`), "mine");
    assert.equal(await Deno.readTextFile(`${dir}/report (1)`), "theirs");
    assert.equal(await exists(p), false);
  });
});

Deno.test("sendfile names - saveUnique works without hard links", async () => {
  const deno = Deno as unknown as { link: typeof Deno.link };
  const link = deno.link;
  deno.link = () => Promise.reject(new Deno.errors.PermissionDenied("no hard links here"));
  try {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/notes.pdf`, "mine");
      const p = await part(dir, "notes.pdf", "theirs");
      assert.equal(await saveUnique(p, dir, "notes.pdf"), `${dir}/notes (1).pdf`);
      assert.equal(await Deno.readTextFile(`${dir}/notes.pdf`), "mine");
      assert.equal(await Deno.readTextFile(`${dir}/notes (1).pdf`), "theirs");
      assert.equal(await exists(p), false);
    });
  } finally {
    deno.link = link;
  }
});

Deno.test("sendfile names - unsafe names are refused, not written", async () => {
  await withTempDir(async (dir) => {
    const p = await part(dir, "x", "data");
    for (const bad of ["", ".", "..", "../x", "a/b", "a\\b"]) {
      await assert.rejects(saveUnique(p, dir, bad), /unsafe file name/);
      await assert.rejects(createPart(dir, bad), /unsafe file name/);
    }
    assert.equal(await Deno.readTextFile(p), "data");
  });
});

Deno.test("sendfile names - createPart gives distinct .part files", async () => {
  await withTempDir(async (dir) => {
    const sub = `${dir}/downloads/new`; // created on the way
    const a = await createPart(sub, "notes.pdf");
    const b = await createPart(sub, "notes.pdf");
    a.file.close();
    b.file.close();
    assert.equal(a.path, `${sub}/notes.pdf.part`);
    assert.equal(b.path, `${sub}/notes.pdf (1).part`);
    assert.notEqual(a.path, b.path);
    assert.ok(await exists(a.path));
    assert.ok(await exists(b.path));
  });
});
