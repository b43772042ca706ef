/** Files coming in: written to `<downloads>/<name>.part` chunk by chunk (opened first if the
 *  file is end-to-end encrypted), hashed as they come, and given their final name only once
 *  the SHA-256 checked out. The offer is taken in receive_offer.ts, the chunks by
 *  incoming.ts, the end in receive_end.ts. */
import type { ClientApi, Ui } from "../types.ts";
import { FileAck, FileChunk, FileEnd, FileIncoming } from "./protocol.ts";
import { takeOffer } from "./receive_offer.ts";
import { endFile } from "./receive_end.ts";
import { Receiver } from "./receiver.ts";

export function receiveFiles(api: ClientApi, downloads: () => string) {
  const rx = new Receiver(api, downloads);

  // Quitting (or Ctrl-C) mid-transfer leaves no partial file behind.
  globalThis.addEventListener("unload", () => {
    for (const t of rx.files.values()) t.removeSync();
  });

  api.on(FileIncoming, (m, ui, ctx) => takeOffer(rx, m, ui, ctx));

  api.on(FileChunk, async ({ file, n, data }, ui, ctx) => {
    const t = rx.files.get(file);
    if (!t) return;
    const refusal = await t.take(n, data);
    if (refusal) return rx.refuse(ctx, ui, t, refusal);
    ctx.notify(FileAck, { file, n });
  });

  api.on(FileEnd, (m, ui, ctx) => endFile(rx, m, ui, ctx));

  return {
    /** A transfer the server ended: remove what came of it. */
    async cancelled(file: string, ui: Ui, code: string, message: string): Promise<boolean> {
      const t = rx.files.get(file);
      if (!t) return false;
      await rx.discard(t);
      ui.error(code, `${t.name} from ${t.from}: ${message}; the partial file was removed`);
      return true;
    },
    /** The connection dropped: every transfer on it is gone. */
    async reset(): Promise<void> {
      for (const t of rx.files.values()) await rx.discard(t);
    },
  };
}
