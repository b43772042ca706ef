/** What the receiving side's handlers share: the files coming in, by transfer id, and how one
 *  is given up on. */
import type { ClientApi, ClientCtx, Ui } from "../types.ts";
import type { Sealer } from "../services.ts";
import type { IncomingFile, Refusal } from "./incoming.ts";
import { FileCancel, FileVerdict } from "./protocol.ts";

export class Receiver {
  readonly files = new Map<string, IncomingFile>();

  constructor(readonly api: ClientApi, readonly downloads: () => string) {}

  sealer(): Sealer | undefined {
    return this.api.service<Sealer>("encrypt.sealer");
  }

  /** Forgets `t` and removes what came of it. */
  async discard(t: IncomingFile): Promise<void> {
    this.files.delete(t.id);
    await t.discard();
  }

  /** Gives up on a file: a lasting problem with a kept one (it does not open: tampered) is a
   *  failed verdict, so it is not offered again; anything else is a cancel. */
  async refuse(ctx: ClientCtx, ui: Ui, t: IncomingFile, { code, why, lasting }: Refusal) {
    await this.discard(t);
    if (lasting && t.kept) ctx.notify(FileVerdict, { file: t.id, ok: false });
    else ctx.notify(FileCancel, { file: t.id, reason: why });
    ui.error(code, `${t.name} from ${t.from}: ${why}; the partial file was removed`);
  }
}
