/** The sendfile plugin's client half: `/sendfile <user> <path>` streams a file; incoming files
 *  are written to `<downloads>/<name>.part`, checked, and only then given their final name. */
import { createHash, type Hash } from "node:crypto";
import { ChatError } from "../../protocol/errors.ts";
import type { ClientApi, ClientCtx, Ui } from "../types.ts";
import { createPart, safeFileName, saveUnique } from "./names.ts";
import {
  FileAck,
  FileCancel,
  FileCancelled,
  FileChunk,
  FileCredit,
  FileEnd,
  FileIncoming,
  FileOffer,
  FileVerdict,
  FileVerified,
  OfferAck,
  sizeText,
} from "./protocol.ts";
import { Outgoing, readChunk } from "./sending.ts";

interface Incoming {
  from: string;
  name: string;
  size: number;
  dir: string;
  part: string;
  file: Deno.FsFile;
  hash: Hash;
  next: number;
  bytes: number;
}

export function sendfileClient(api: ClientApi) {
  const sending = new Map<string, Outgoing>();
  const receiving = new Map<string, Incoming>();

  // A new login means the old connection is gone, and with it every transfer on it.
  api.onLogin(() => {
    for (const t of sending.values()) t.fail("the connection dropped");
    for (const [id, t] of receiving) void discard(id, t);
  });
  const discard = async (id: string, t: Incoming) => {
    receiving.delete(id);
    try {
      t.file.close();
    } catch { /* closed already */ }
    await Deno.remove(t.part).catch(() => {});
  };

  api.command({
    name: "sendfile",
    usage: '/sendfile <user> <path>  (quote a path with spaces: "my notes.pdf")',
    summary: "send a file, streamed and checked with SHA-256",
    async run(input, ctx) {
      if (input.args.length !== 2) {
        return ctx.ui.error("USAGE", "/sendfile <user> <path>  (quote paths with spaces)");
      }
      const [to, path] = input.args;
      await send(ctx, to, path);
    },
  });

  async function send(ctx: ClientCtx, to: string, path: string) {
    const file = await openForSending(path);
    try {
      const { size } = await file.stat();
      const name = path.split(/[\\/]/).pop() || path;
      const ack = OfferAck.decode(await ctx.request(FileOffer, { to, name, size }));
      const t = new Outgoing(ack.window);
      sending.set(ack.file, t);
      ctx.ui.notice(`sending ${name} (${sizeText(size)}) to ${to}`);
      try {
        const hash = createHash("sha256");
        const buf = new Uint8Array(ack.chunk);
        for (let n = 0;; n++) {
          const got = await readChunk(file, buf);
          if (got === 0 && n > 0) break;
          await t.room(n);
          const chunk = buf.subarray(0, got);
          hash.update(chunk);
          ctx.notify(FileChunk, { file: ack.file, n, data: chunk.toBase64() });
          if (got < buf.length) break;
        }
        ctx.notify(FileEnd, { file: ack.file, sha256: hash.digest("hex") });
        const v = await t.result;
        if (!v.ok) {
          throw new ChatError(
            "CHECKSUM_MISMATCH",
            `${v.by} got ${name} with a different SHA-256; it was not kept`,
          );
        }
        ctx.ui.notice(`sent ${name} (${sizeText(size)}) to ${v.by}: verified by ${v.by}`);
      } finally {
        sending.delete(ack.file);
      }
    } finally {
      file.close();
    }
  }

  api.on(FileCredit, ({ file, n }) => sending.get(file)?.credit(n));
  api.on(FileVerified, (v) => sending.get(v.file)?.verified(v));

  api.on(FileIncoming, async ({ file, from, name, size }, ui) => {
    const dir = expandHome(api.option("downloads")[0] ?? DEFAULT_DOWNLOADS);
    const safe = safeFileName(name);
    const part = await createPart(dir, safe);
    receiving.set(file, {
      from,
      name: safe,
      size,
      dir,
      part: part.path,
      file: part.file,
      hash: createHash("sha256"),
      next: 0,
      bytes: 0,
    });
    ui.notice(`${ui.style.name(from)} is sending you ${safe} (${sizeText(size)})`);
  });

  api.on(FileChunk, async ({ file, n, data }, ui, ctx) => {
    const t = receiving.get(file);
    if (!t) return;
    const bytes = Uint8Array.fromBase64(data);
    if (n !== t.next || t.bytes + bytes.length > t.size) {
      return refuse(ctx, ui, file, t, `chunk ${n} out of order or past the size`);
    }
    await writeAll(t.file, bytes);
    t.hash.update(bytes);
    t.next++;
    t.bytes += bytes.length;
    ctx.notify(FileAck, { file, n });
  });

  api.on(FileEnd, async ({ file, sha256 }, ui, ctx) => {
    const t = receiving.get(file);
    if (!t) return;
    receiving.delete(file);
    t.file.close();
    const ok = t.bytes === t.size && t.hash.digest("hex") === sha256;
    ctx.notify(FileVerdict, { file, ok });
    if (!ok) {
      await Deno.remove(t.part).catch(() => {});
      return ui.error(
        "CHECKSUM_MISMATCH",
        `${t.name} from ${t.from} did not match its SHA-256; it was not kept`,
      );
    }
    const saved = await saveUnique(t.part, t.dir, t.name);
    ui.notice(
      `received ${t.name} (${sizeText(t.size)}) from ${
        ui.style.name(t.from)
      }: saved to ${saved} (SHA-256 verified)`,
    );
  });

  api.on(FileCancelled, async ({ file, code, message }, ui) => {
    const out = sending.get(file);
    if (out) return out.fail(message, code);
    const t = receiving.get(file);
    if (!t) return;
    await discard(file, t);
    ui.error(code, `${t.name} from ${t.from}: ${message}; the partial file was removed`);
  });

  async function refuse(ctx: ClientCtx, ui: Ui, file: string, t: Incoming, why: string) {
    await discard(file, t);
    ctx.notify(FileCancel, { file, reason: why });
    ui.error(
      "TRANSFER_CANCELLED",
      `${t.name} from ${t.from}: ${why}; the partial file was removed`,
    );
  }
}

/** Where files land unless `connect --downloads` says otherwise. */
export const DEFAULT_DOWNLOADS = "~/Downloads/ClassChat";

function expandHome(dir: string): string {
  if (!dir.startsWith("~/") && dir !== "~") return dir;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) throw new ChatError("NO_SUCH_FILE", "no home directory: give connect --downloads");
  return home + dir.slice(1);
}

/** Opens a file to send, with the errors a person can act on. */
async function openForSending(path: string): Promise<Deno.FsFile> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ChatError("NO_SUCH_FILE", `no file ${path}`);
    throw new ChatError("FILE_UNREADABLE", `${path}: ${(e as Error).message}`);
  }
  if (!info.isFile) throw new ChatError("NOT_A_FILE", `${path} is not a file (a directory?)`);
  try {
    return await Deno.open(path, { read: true });
  } catch (e) {
    throw new ChatError("FILE_UNREADABLE", `${path}: ${(e as Error).message}`);
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array) {
  for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
}
