/** Files coming in: written to `<downloads>/<name>.part` chunk by chunk (opened first if the
 *  file is end-to-end encrypted), hashed as they come, and given their final name only once
 *  the SHA-256 checked out. */
import { createHash, type Hash } from "node:crypto";
import { ChatError } from "../../protocol/errors.ts";
import type { ClientApi, ClientCtx, Sealer, Ui } from "../types.ts";
import { createPart, safeFileName, saveUnique } from "./names.ts";
import {
  FileAck,
  FileCancel,
  FileChunk,
  FileEnd,
  FileIncoming,
  FileVerdict,
  sizeText,
} from "./protocol.ts";
import { type FileSecret, openBytes, openCheck, openEnvelope } from "./sealing.ts";
import { Progress } from "./progress.ts";

/** How a file travelled, for the notices: sealed, or unsealed from a pinned peer. */
const e2eNote = (t: { secret?: FileSecret; unsealed: boolean }) =>
  t.secret ? ", end-to-end encrypted" : t.unsealed ? ", NOT end-to-end encrypted" : "";

interface Receiving {
  from: string;
  name: string;
  /** Bytes on the wire, and of the file itself (fewer when sealed). */
  wireSize: number;
  size: number;
  /** The server kept it (the sender may be gone): a lasting problem gets a verdict, not a
   *  cancel, so the server does not offer it again. */
  kept: boolean;
  secret?: FileSecret;
  /** Unsealed from someone whose key is pinned: said so up to the end. */
  unsealed: boolean;
  dir: string;
  part: string;
  file: Deno.FsFile;
  plain: Hash;
  wire?: Hash;
  next: number;
  wireBytes: number;
  bytes: number;
  progress: Progress;
}

export function receiveFiles(api: ClientApi, downloads: () => string) {
  const receiving = new Map<string, Receiving>();
  const sealer = () => api.service<Sealer>("encrypt.sealer");

  const discard = async (id: string, t: Receiving) => {
    receiving.delete(id);
    t.progress.finish();
    try {
      t.file.close();
    } catch { /* closed already */ }
    await Deno.remove(t.part).catch(() => {});
  };

  // Quitting (or Ctrl-C) mid-transfer leaves no partial file behind.
  globalThis.addEventListener("unload", () => {
    for (const t of receiving.values()) {
      try {
        t.file.close();
        Deno.removeSync(t.part);
      } catch { /* gone already */ }
    }
  });

  api.on(FileIncoming, async (m, ui, ctx) => {
    const prior = receiving.get(m.file);
    if (prior) await discard(m.file, prior); // a server reusing an id: drop the first
    /** A problem here (no key for it, no room on disk) is ours, not the file's: cancel, and a
     *  kept file is offered again at the next login. */
    const cannot = (e: unknown) => {
      ctx.notify(FileCancel, { file: m.file, reason: "the receiver cannot take it now" });
      const err = e instanceof ChatError ? e : new ChatError("FILE_UNREADABLE", String(e));
      ui.error(err.code, `a file from ${m.from}: ${err.message}; it was refused`);
    };
    let secret: FileSecret | undefined;
    try {
      if (m.sealed) secret = await openEnvelope(ctx, sealer(), m.from, m.sealed);
    } catch (e) {
      return cannot(e);
    }
    const dir = downloads();
    const name = safeFileName(secret?.name ?? m.name);
    const size = secret?.size ?? m.size;
    // A direct file that comes unsealed from someone whose key is pinned: the server could
    // have read it, or made it up. Taken, but marked rather than refused: the sender may have
    // turned /e2e off on purpose (their choice, which they were warned about), and a refused
    // file cannot even be looked at; the person decides what to trust, warned here and at the
    // end. (Room files are never sealed; our own coming back are another matter.)
    const unsealed = !secret && m.room === undefined &&
      m.from.toLowerCase() !== ctx.me.toLowerCase() && sealer()?.pinned(m.from) === true;
    if (unsealed) {
      ui.error(
        "NOT_ENCRYPTED",
        `${name} from ${m.from} is NOT end-to-end encrypted, though you pinned ${m.from}'s key:` +
          ` the server could have read or forged it (or ${m.from} turned /e2e off)`,
      );
    }
    let part: { path: string; file: Deno.FsFile };
    try {
      part = await createPart(dir, name);
    } catch (e) {
      return cannot(
        new ChatError("FILE_UNREADABLE", `cannot write to ${dir}: ${(e as Error).message}`),
      );
    }
    receiving.set(m.file, {
      from: m.from,
      name,
      wireSize: m.size,
      size,
      kept: m.kept === true,
      secret,
      unsealed,
      dir,
      part: part.path,
      file: part.file,
      plain: createHash("sha256"),
      wire: secret && createHash("sha256"),
      next: 0,
      wireBytes: 0,
      bytes: 0,
      progress: new Progress(ui, m.file, `↓ ${name} from ${m.from}`, size),
    });
    const where = m.room ? ` in #${m.room}` : "";
    const when = m.sent !== undefined ? `, sent ${ui.time(m.sent)} while you were away` : "";
    ui.notice(
      `${ui.style.name(m.from)} is sending you ${name} (${sizeText(size)})${where}${when}${
        e2eNote({ secret, unsealed })
      }`,
    );
  });

  api.on(FileChunk, async ({ file, n, data }, ui, ctx) => {
    const t = receiving.get(file);
    if (!t) return;
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.fromBase64(data);
    } catch {
      return refuse(ctx, ui, file, t, "TRANSFER_CANCELLED", `chunk ${n} is not base64`);
    }
    if (n !== t.next || t.wireBytes + bytes.length > t.wireSize) {
      return refuse(ctx, ui, file, t, "TRANSFER_CANCELLED", `chunk ${n} out of order or too big`);
    }
    let plain: Uint8Array = bytes;
    if (t.secret) {
      t.wire!.update(bytes);
      try {
        plain = await openBytes(t.secret, n, bytes);
      } catch (e) {
        return refuse(ctx, ui, file, t, "E2E_FAILED", (e as Error).message, true);
      }
    }
    if (t.bytes + plain.length > t.size) {
      return refuse(ctx, ui, file, t, "TRANSFER_CANCELLED", "more bytes than offered");
    }
    try {
      for (let off = 0; off < plain.length;) off += await t.file.write(plain.subarray(off));
    } catch (e) {
      return refuse(ctx, ui, file, t, "FILE_UNREADABLE", `cannot write: ${(e as Error).message}`);
    }
    t.plain.update(plain);
    t.next++;
    t.wireBytes += bytes.length;
    t.bytes += plain.length;
    t.progress.update(t.bytes);
    ctx.notify(FileAck, { file, n });
  });

  api.on(FileEnd, async ({ file, sha256, check }, ui, ctx) => {
    const t = receiving.get(file);
    if (!t) return;
    receiving.delete(file);
    t.file.close();
    const plain = t.plain.digest("hex");
    const ok = t.wireBytes === t.wireSize && t.bytes === t.size &&
      (t.secret
        ? t.wire!.digest("hex") === sha256 && check !== undefined &&
          await openCheck(t.secret, check) === plain
        : plain === sha256);
    const took = t.progress.finish();
    if (!ok) {
      ctx.notify(FileVerdict, { file, ok });
      await Deno.remove(t.part).catch(() => {});
      return ui.error(
        "CHECKSUM_MISMATCH",
        `${t.name} from ${t.from} did not match its SHA-256; it was not kept`,
      );
    }
    let saved: string;
    try {
      saved = await saveUnique(t.part, t.dir, t.name);
    } catch (e) {
      await Deno.remove(t.part).catch(() => {});
      ctx.notify(FileCancel, { file, reason: "the receiver could not save it" });
      return ui.error("FILE_UNREADABLE", `${t.name} from ${t.from}: ${(e as Error).message}`);
    }
    // Only now, with the file under its name: the server may forget a kept copy.
    ctx.notify(FileVerdict, { file, ok });
    ui.notice(
      `received ${t.name} (${sizeText(t.size)}) from ${ui.style.name(t.from)} ${took}: ` +
        `saved to ${saved} (SHA-256 verified${e2eNote(t)})`,
    );
  });

  /** Gives up on a file: a lasting problem with a kept one (it does not open: tampered) is a
   *  failed verdict, so it is not offered again; anything else is a cancel. */
  async function refuse(
    ctx: ClientCtx,
    ui: Ui,
    file: string,
    t: Receiving,
    code: string,
    why: string,
    lasting = false,
  ) {
    await discard(file, t);
    if (lasting && t.kept) ctx.notify(FileVerdict, { file, ok: false });
    else ctx.notify(FileCancel, { file, reason: why });
    ui.error(code, `${t.name} from ${t.from}: ${why}; the partial file was removed`);
  }

  return {
    /** A transfer the server ended: remove what came of it. */
    async cancelled(file: string, ui: Ui, code: string, message: string): Promise<boolean> {
      const t = receiving.get(file);
      if (!t) return false;
      await discard(file, t);
      ui.error(code, `${t.name} from ${t.from}: ${message}; the partial file was removed`);
      return true;
    },
    /** The connection dropped: every transfer on it is gone. */
    async reset(): Promise<void> {
      for (const [id, t] of receiving) await discard(id, t);
    },
  };
}
