/**
 * File names for received files. The sender's name arrives over the network and is hostile
 * input: it must never choose where a file lands (no "../", no absolute paths), never hide
 * itself or mislead the reader (dot files, right-to-left tricks), and never overwrite a file
 * the person already has.
 */

/** Longest name we hand out, in UTF-8 bytes: under the common file-system limit of 255 bytes,
 *  with room left for a " (123)" made by saveUnique and a ".part" made by createPart. */
export const MAX_FILE_NAME_BYTES = 200;

/** Longer "extensions" are more likely part of the name ("v1.0 final draft") than a type. */
const MAX_EXT_CHARS = 16;

/** saveUnique and createPart give up after this many " (n)" tries. */
const MAX_TRIES = 9999;

/** Used when nothing usable is left of the sender's name. */
const FALLBACK = "file";

/** Windows opens a device instead of a file for these, whatever the extension ("CON.txt"),
 *  and also for COM/LPT with superscript digits and for CONIN$/CONOUT$. */
const RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³]|conin\$|conout\$)$/i;

/**
 * Turns any string into a safe single path component:
 * - only the last component after any `/` or `\` is kept ("../../etc/passwd" -> "passwd");
 * - control characters (C0, DEL, C1) and Unicode bidi controls (U+202A-U+202E, U+2066-U+2069,
 *   and the marks U+200E, U+200F, U+061C) are removed, so "a\nb.txt" -> "ab.txt" and
 *   "evil\u202Egpj.exe" (shown as "evilexe.jpg") -> "evilgpj.exe";
 * - characters Windows forbids in names (`<>:"|?*`) become `_`;
 * - leading and trailing whitespace and dots are removed, so the result is never hidden,
 *   "." or ".." (".bashrc" -> "bashrc") and Windows does not silently drop trailing dots;
 * - Windows device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9, any case, with or without an
 *   extension) get a leading `_` ("CON.txt" -> "_CON.txt");
 * - the result is cut to MAX_FILE_NAME_BYTES bytes of UTF-8 without splitting a character,
 *   keeping the extension (after the last dot, if at most 16 characters);
 * - if nothing is left, the result is "file".
 * Applying it to its own result changes nothing.
 */
export function safeFileName(name: string): string {
  // Lone surrogates cannot be written as UTF-8; they become U+FFFD instead of breaking later.
  let s = name.toWellFormed().replace(/[\p{Cc}\p{Bidi_Control}]/gu, "");
  s = s.split(/[/\\]/).at(-1) ?? "";
  s = s.replace(/[<>:"|?*]/g, "_");
  s = stripEnds(s);
  if (RESERVED.test(s.split(".")[0].trimEnd())) s = "_" + s;
  s = stripEnds(truncate(s));
  return s || FALLBACK;
}

/**
 * Moves the finished temporary file `partPath` into `dir` as `name` (already made safe by
 * safeFileName), or as "stem (1).ext", "stem (2).ext", ... when that is taken, and returns
 * the final path. An existing file is never overwritten: a hard link fails when its target
 * exists, so checking and creating the name is one atomic step, with no window in which
 * another writer could slip in between.
 */
export async function saveUnique(partPath: string, dir: string, name: string): Promise<string> {
  checkName(name);
  const [stem, ext] = splitExt(name);
  let linkWorks = true;
  for (let n = 0; n <= MAX_TRIES; n++) {
    const path = `${dir}/${n === 0 ? name : `${stem} (${n})${ext}`}`;
    if (linkWorks) {
      try {
        await Deno.link(partPath, path);
        await Deno.remove(partPath);
        return path;
      } catch (err) {
        if (err instanceof Deno.errors.AlreadyExists) continue;
        // Some file systems (FAT, some network shares) have no hard links: reserve instead.
        linkWorks = false;
      }
    }
    try {
      // createNew is atomic too: the empty file reserves the name, then the rename replaces
      // our own reservation and nothing else.
      (await Deno.open(path, { write: true, createNew: true })).close();
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) continue;
      throw err;
    }
    try {
      await Deno.rename(partPath, path);
      return path;
    } catch (err) {
      await Deno.remove(path).catch(() => {}); // do not leave an empty file behind
      throw err;
    }
  }
  throw new Error(`no free file name for ${name} in ${dir}`);
}

/**
 * Creates `dir` if needed and a new temporary file `<dir>/<name>.part` to receive into, or
 * "<name> (1).part", "<name> (2).part", ... when another transfer of the same name is under
 * way. The ".part" name is never a final name, so a half-received file never looks finished.
 */
export async function createPart(
  dir: string,
  name: string,
): Promise<{ path: string; file: Deno.FsFile }> {
  checkName(name);
  await Deno.mkdir(dir, { recursive: true });
  for (let n = 0; n <= MAX_TRIES; n++) {
    const path = `${dir}/${n === 0 ? name : `${name} (${n})`}.part`;
    try {
      return { path, file: await Deno.open(path, { write: true, createNew: true }) };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
  }
  throw new Error(`no free temporary file name for ${name} in ${dir}`);
}

/** Last line of defence: a name that could leave `dir` is a bug in the caller. */
function checkName(name: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new Error(`unsafe file name: ${JSON.stringify(name)}`);
  }
}

function stripEnds(s: string): string {
  return s.replace(/^[\s.]+|[\s.]+$/g, "");
}

/** ["notes", ".pdf"] for "notes.pdf"; ["README", ""] when there is no (short) extension. */
function splitExt(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) return [name, ""];
  const ext = name.slice(dot);
  if ([...ext].length - 1 > MAX_EXT_CHARS) return [name, ""];
  return [name.slice(0, dot), ext];
}

/** Cuts the stem so the whole name fits in MAX_FILE_NAME_BYTES, keeping the extension. */
function truncate(name: string): string {
  if (utf8Length(name) <= MAX_FILE_NAME_BYTES) return name;
  const [stem, ext] = splitExt(name);
  return cutUtf8(stem, MAX_FILE_NAME_BYTES - utf8Length(ext)) + ext;
}

/** The longest prefix of `s` of at most `max` UTF-8 bytes, cut between code points. */
function cutUtf8(s: string, max: number): string {
  let bytes = 0;
  let out = "";
  for (const ch of s) {
    bytes += utf8Length(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}

function utf8Length(s: string): number {
  let bytes = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}
