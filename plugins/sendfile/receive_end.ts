/** A file's end (sendfile.end): checked against its SHA-256, given its final name only if it
 *  matched, and the verdict sent (which lets the server forget a kept copy). */
import type { ClientCtx, Ui } from "../types.ts";
import { e2eNote } from "./incoming.ts";
import { saveUnique } from "./names.ts";
import { FileCancel, FileVerdict, sizeText } from "./protocol.ts";
import type { Receiver } from "./receiver.ts";

export async function endFile(
  rx: Receiver,
  { file, sha256, check }: { file: string; sha256: string; check?: string },
  ui: Ui,
  ctx: ClientCtx,
) {
  const t = rx.files.get(file);
  if (!t) return;
  rx.files.delete(file);
  t.file.close();
  const ok = await t.verify(sha256, check);
  const took = t.progress.finish();
  if (!ok) {
    ctx.notify(FileVerdict, { file, ok });
    await t.removePart();
    return ui.error(
      "CHECKSUM_MISMATCH",
      `${t.name} from ${t.from} did not match its SHA-256; it was not kept`,
    );
  }
  let saved: string;
  try {
    saved = await saveUnique(t.part, t.dir, t.name);
  } catch (e) {
    await t.removePart();
    ctx.notify(FileCancel, { file, reason: "the receiver could not save it" });
    return ui.error("FILE_UNREADABLE", `${t.name} from ${t.from}: ${(e as Error).message}`);
  }
  // Only now, with the file under its name: the server may forget a kept copy.
  ctx.notify(FileVerdict, { file, ok });
  ui.notice(
    `received ${t.name} (${sizeText(t.size)}) from ${ui.style.name(t.from)} ${took}: ` +
      `saved to ${saved} (SHA-256 verified${e2eNote(t)})`,
  );
}
