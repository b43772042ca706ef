/** The sendfile plugin's client half: `/sendfile <user|@room> <path>` streams a file (sealed
 *  end to end for a user when the encrypt plugin is on); receiving.ts takes files in. */
import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { ChatError } from "../../protocol/errors.ts";
import { type ClientApi, type ClientCtx, UsageError } from "../types.ts";
import type { Sealer } from "../services.ts";
import {
  FileCancelled,
  FileChunk,
  FileCredit,
  FileEnd,
  FileOffer,
  FileStored,
  FileVerified,
  sizeText,
} from "./protocol.ts";
import { Outgoing, readChunk } from "./sending.ts";
import { receiveFiles } from "./receiving.ts";
import { safeFileName } from "./names.ts";
import { Progress } from "./progress.ts";
import { DOWNLOADS } from "./options.ts";
import { PLAIN_CHUNK, sealBytes, sealCheck, SEALED_NAME, sealedSize, sealFor } from "./sealing.ts";

/** Where a typed path points (see userPath), said wherever /sendfile's usage is shown. */
const PATHS = "(~/ is your home, a relative path starts where you ran the client; " +
  'quote a path with spaces: "my notes.pdf")';

/** Kept end-to-end encrypted files whose verdict is still to come: the server knows them only
 *  as SEALED_NAME, so their names are remembered per recipient (one each, delivered in the
 *  order kept) to name them in the verdict. A few hundred covers a term. */
const MAX_KEPT_NAMES = 500;

export function sendfileClient(api: ClientApi) {
  const sending = new Map<string, Outgoing>();
  const keptNames = new Map<string, string[]>();
  let keptCount = 0;
  const incoming = receiveFiles(
    api,
    () =>
      userPath(
        api.setting(DOWNLOADS),
        "give connect --downloads",
        api.homeDir(),
      ),
  );

  // A new login means the old connection is gone, and with it every transfer on it.
  api.onLogin(async () => {
    for (const t of sending.values()) t.fail("the connection dropped");
    await incoming.reset();
  });

  api.command({
    name: "sendfile",
    usage: `/sendfile <user|@room> <path>  ${PATHS}`,
    summary: "send a file to someone or a room; kept on the server for those away",
    async run(input, ctx) {
      if (input.args.length !== 2) {
        throw new UsageError();
      }
      const [to, path] = input.args;
      await send(ctx, to, path);
    },
  });

  async function send(ctx: ClientCtx, target: string, path: string) {
    const room = /^[@#]/.test(target) ? target.slice(1) : undefined;
    const to = room === undefined ? target : undefined;
    const file = await openForSending(userPath(path, "give the whole path", api.homeDir()));
    try {
      const { size } = await file.stat();
      // What the receiver would make of it anyway; it also keeps our own notices clean.
      const name = safeFileName(path.split(/[\\/]/).pop() || path);
      const sealer = api.service<Sealer>("encrypt.sealer");
      const e2e = to === undefined ? undefined : await sealFor(ctx, sealer, to, name, size);
      const offer = e2e
        ? { to, name: SEALED_NAME, size: sealedSize(size), sealed: e2e.sealed }
        : { to, room, name, size };
      const ack = await ctx.request(FileOffer, offer);
      const t = new Outgoing(ack.window);
      sending.set(ack.file, t);
      const label = room === undefined ? to! : `#${room}`;
      const how = [ack.stored && "kept on the server", e2e && "end-to-end encrypted"]
        .filter(Boolean).join(", ");
      ctx.ui.notice(`sending ${name} (${sizeText(size)}) to ${label}${how ? ` (${how})` : ""}`);
      const progress = new Progress(ctx.ui, ack.file, `↑ ${name} to ${label}`, size);
      try {
        const plain = createHash("sha256");
        const wire = e2e ? createHash("sha256") : plain;
        const buf = new Uint8Array(e2e ? PLAIN_CHUNK : ack.chunk);
        let sent = 0;
        for (let n = 0;; n++) {
          const got = await readChunk(file, buf);
          if (got === 0 && n > 0) break;
          await t.room(n);
          const chunk = buf.subarray(0, got);
          plain.update(chunk);
          const bytes = e2e ? await sealBytes(e2e.secret, n, chunk) : chunk;
          if (e2e) wire.update(bytes);
          ctx.notify(FileChunk, { file: ack.file, n, data: bytes });
          progress.update(sent += got);
          if (got < buf.length) break;
        }
        const plainHex = plain.digest("hex");
        const check = e2e && await sealCheck(e2e.secret, plainHex);
        const sha256 = e2e ? wire.digest("hex") : plainHex;
        ctx.notify(FileEnd, { file: ack.file, sha256, check: check || undefined });
        const v = await t.result;
        const took = progress.finish();
        if (v.kind === "stored") {
          const who = room === undefined
            ? `${v.to} gets it when they connect`
            : `${v.now} got it now, ${v.later} get it when they connect`;
          if (e2e && keptCount < MAX_KEPT_NAMES) {
            const key = v.to.toLowerCase();
            keptNames.set(key, [...keptNames.get(key) ?? [], name]);
            keptCount++;
          }
          return ctx.ui.notice(`${name} is kept on the server for ${v.to} (${took}): ${who}`);
        }
        if (!v.ok) {
          throw new ChatError(
            "CHECKSUM_MISMATCH",
            `${v.by} got ${name} with a different SHA-256; it was not kept`,
          );
        }
        ctx.ui.notice(`sent ${name} (${sizeText(size)}) to ${v.by} ${took}: verified by ${v.by}`);
      } finally {
        progress.finish();
        sending.delete(ack.file);
      }
    } finally {
      file.close();
    }
  }

  api.on(FileCredit, ({ file, n }) => void sending.get(file)?.credit(n));
  api.on(FileStored, ({ file, to, now, later }) => {
    sending.get(file)?.finish({ kind: "stored", to, now, later });
  });
  // The verdict of a live transfer, or later, of each recipient of a kept file.
  api.on(FileVerified, ({ file, name, by, ok }, ui) => {
    const t = sending.get(file);
    if (t) return t.finish({ kind: "verified", by, ok });
    const sealed = name === SEALED_NAME;
    const kept = sealed ? keptNames.get(by.toLowerCase())?.shift() : undefined;
    if (kept !== undefined) keptCount--;
    const shown = kept ?? (sealed ? "your end-to-end encrypted file" : safeFileName(name));
    const e2e = sealed ? ", end-to-end encrypted" : "";
    if (ok) ui.notice(`${ui.style.name(by)} got ${shown} (SHA-256 verified${e2e})`);
    else ui.error("CHECKSUM_MISMATCH", `${by} could not use ${shown}; it was not kept`);
  });

  api.on(FileCancelled, async ({ file, code, message }, ui) => {
    const out = sending.get(file);
    if (out) return out.fail(message, code);
    await incoming.cancelled(file, ui, code, message);
  });
}

/**
 * A path as the person typed it: `~` and `~/...` are their home, and a relative path is from
 * the directory they started the client in. `deno task` runs the program in the checkout, so
 * Deno.cwd() is not that directory; deno task (like npm) passes it as INIT_CWD, and keeps an
 * INIT_CWD already set. Read only when granted (the tasks and the compiled binary allow it),
 * so a narrower permission list falls back to the working directory instead of prompting.
 */
function userPath(path: string, otherwise: string, home: string | undefined): string {
  if (/^~(?=$|[\\/])/.test(path)) {
    if (!home) throw new ChatError("NO_SUCH_FILE", `no home directory for ${path}: ${otherwise}`);
    path = home + path.slice(1);
  }
  return isAbsolute(path) ? path : resolve(callerDir(), path);
}

function callerDir(): string {
  const granted = Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" }).state;
  return (granted === "granted" && Deno.env.get("INIT_CWD")) || Deno.cwd();
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
