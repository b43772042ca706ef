/** A file offered to us (sendfile.incoming): its envelope opened if it is sealed, a `.part`
 *  file made for it, and the person told who is sending what. */
import { ChatError } from "../../protocol/errors.ts";
import type { ClientCtx, Ui } from "../types.ts";
import { e2eNote, IncomingFile } from "./incoming.ts";
import { createPart, safeFileName } from "./names.ts";
import { FileCancel, type Incoming, sizeText } from "./protocol.ts";
import type { Receiver } from "./receiver.ts";
import { type FileSecret, openEnvelope } from "./sealing.ts";

export async function takeOffer(rx: Receiver, m: Incoming, ui: Ui, ctx: ClientCtx) {
  const prior = rx.files.get(m.file);
  if (prior) await rx.discard(prior); // a server reusing an id: drop the first
  let secret: FileSecret | undefined;
  try {
    if (m.sealed) secret = await openEnvelope(ctx, rx.sealer(), m.from, m.sealed);
  } catch (e) {
    return cannot(m, ui, ctx, e);
  }
  const dir = rx.downloads();
  const name = safeFileName(secret?.name ?? m.name);
  const size = secret?.size ?? m.size;
  const unsealed = !secret && pinnedUnsealed(rx, m, ctx);
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
      m,
      ui,
      ctx,
      new ChatError("FILE_UNREADABLE", `cannot write to ${dir}: ${(e as Error).message}`),
    );
  }
  const t = new IncomingFile(m.file, {
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
  }, ui);
  rx.files.set(m.file, t);
  announce(m, t, ui);
}

/** A problem here (no key for it, no room on disk) is ours, not the file's: cancel, and a
 *  kept file is offered again at the next login. */
function cannot(m: Incoming, ui: Ui, ctx: ClientCtx, e: unknown) {
  ctx.notify(FileCancel, { file: m.file, reason: "the receiver cannot take it now" });
  const err = e instanceof ChatError ? e : new ChatError("FILE_UNREADABLE", String(e));
  ui.error(err.code, `a file from ${m.from}: ${err.message}; it was refused`);
}

/** For an unsealed offer. A direct file that comes unsealed from someone whose key is pinned:
 *  the server could have read it, or made it up. Taken, but marked rather than refused: the
 *  sender may have turned /e2e off on purpose (their choice, which they were warned about),
 *  and a refused file cannot even be looked at; the person decides what to trust, warned here
 *  and at the end. (Room files are never sealed; our own coming back are another matter.) */
function pinnedUnsealed(rx: Receiver, m: Incoming, ctx: ClientCtx): boolean {
  return m.room === undefined && m.from.toLowerCase() !== ctx.me.toLowerCase() &&
    rx.sealer()?.pinned(m.from) === true;
}

function announce(m: Incoming, t: IncomingFile, ui: Ui) {
  const where = m.room ? ` in #${m.room}` : "";
  const when = m.sent !== undefined ? `, sent ${ui.time(m.sent)} while you were away` : "";
  ui.notice(
    `${ui.style.name(m.from)} is sending you ${t.name} (${sizeText(t.size)})${where}${when}${
      e2eNote(t)
    }`,
  );
}
