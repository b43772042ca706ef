/// <reference lib="dom" />
/**
 * End-to-end encryption in the browser: the terminal client's scheme, from the same module
 * (plugins/encrypt/crypto.ts: X25519, HKDF, AES-GCM, in WebCrypto). The identity key is made
 * on first login and kept in this browser's storage (per account), published to the server,
 * and peers' keys are pinned on first use, here as the terminal pins them on disk: a pinned key
 * that changes stops sending (KEY_CHANGED) until compared with /verify.
 */
import {
  decodeSealed,
  exportIdentity,
  generateIdentity,
  type Identity,
  importIdentity,
  isPublicKey,
  open,
  safetyNumber,
  seal,
  type StoredIdentity,
} from "../../plugins/encrypt/crypto.ts";
import { EncryptKey, EncryptPublish } from "../../plugins/encrypt/protocol.ts";
import { fromB64u, toB64u } from "../../protocol/base64url.ts";
import type { Sealer } from "../../plugins/services.ts";
import { type PageConnection, RequestError } from "./conn.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A peer's key as the server gave it (null: they have none yet). */
type Key = string | null;

export class PageE2e {
  #keys = new Map<string, Key>();
  /** The key whose safety number was last shown, per peer: what `accept` may pin. */
  #compared = new Map<string, string>();

  private constructor(readonly me: string, readonly id: Identity) {}

  /** This account's key in this browser (made on first use), published to the server. */
  static async start(conn: PageConnection, me: string): Promise<PageE2e> {
    const slot = `classchat.e2e.${me.toLowerCase()}`;
    const kept = localStorage.getItem(slot);
    let id: Identity;
    if (kept) id = await importIdentity(JSON.parse(kept) as StoredIdentity);
    else {
      id = await generateIdentity();
      localStorage.setItem(slot, JSON.stringify(await exportIdentity(id)));
    }
    await conn.request(EncryptPublish, { key: id.publicKey });
    return new PageE2e(me, id);
  }

  /** Pins of this account in this browser: name (lower case) to key. */
  #pins(): Record<string, string> {
    return JSON.parse(localStorage.getItem(`classchat.pins.${this.me.toLowerCase()}`) ?? "{}");
  }

  #pin(name: string, key: string, replace = false): "pinned" | "same" | "changed" {
    const pins = this.#pins();
    const was = pins[name.toLowerCase()];
    if (was === key) return "same";
    if (was !== undefined && !replace) return "changed";
    pins[name.toLowerCase()] = key;
    localStorage.setItem(`classchat.pins.${this.me.toLowerCase()}`, JSON.stringify(pins));
    return "pinned";
  }

  isPinned(name: string): boolean {
    return this.#pins()[name.toLowerCase()] !== undefined;
  }

  /** A key pushed by the server (encrypt.changed): the next message checks it. */
  changed(name: string, key: string): void {
    this.#keys.set(name.toLowerCase(), key);
  }

  async keyOf(conn: PageConnection, name: string): Promise<{ name: string; key: Key }> {
    const cached = this.#keys.get(name.toLowerCase());
    if (cached !== undefined && cached !== null) return { name, key: cached };
    const a = await conn.request(EncryptKey, { name });
    if (a.name.toLowerCase() !== name.toLowerCase()) {
      throw new RequestError("E2E_FAILED", `asked for ${name}'s key, the server gave ${a.name}'s`);
    }
    this.#keys.set(name.toLowerCase(), a.key);
    return a;
  }

  /** Seals `text` for `peer`, with the keys it travels with; undefined when the peer has no
   *  key yet and was never pinned (sent in the clear, as the terminal does). */
  async seal(conn: PageConnection, peer: string, text: string, context?: string) {
    const { name, key } = await this.keyOf(conn, peer);
    if (!key) {
      if (this.isPinned(name)) {
        throw new RequestError("KEY_MISSING", `the server no longer offers ${name}'s key`);
      }
      return undefined;
    }
    if (this.#pin(name, key) === "changed") {
      throw new RequestError(
        "KEY_CHANGED",
        `${name}'s encryption key changed; nothing was sent. Compare /verify ${name}, then ` +
          `/verify ${name} accept`,
      );
    }
    const parties = { sender: this.me, senderKey: this.id.publicKey, receiver: name };
    const sealed = await seal({
      ...parties,
      receiverKey: key,
      myPrivate: this.id.privateKey,
      text,
      context,
    });
    return { ...sealed, from: this.id.publicKey, to: key };
  }

  /** Opens a sealed direct message to or from us; `marked` when the sender's key is not the
   *  one pinned (shown with a warning, as the terminal does). */
  async open(
    sender: string,
    receiver: string,
    sealed: Record<string, unknown>,
    context?: string,
  ): Promise<{ text: string; marked: boolean }> {
    const { from, to } = sealed;
    if (!isPublicKey(from) || !isPublicKey(to)) throw new Error("the keys are missing");
    const mine = sender.toLowerCase() === this.me.toLowerCase();
    if ((mine ? from : to) !== this.id.publicKey) {
      throw new Error("sealed for another key of yours (another browser or computer?)");
    }
    const marked = !mine && this.#pin(sender, from) === "changed";
    const text = await open({
      sender,
      senderKey: from,
      receiver,
      receiverKey: to,
      myPrivate: this.id.privateKey,
      myKey: this.id.publicKey,
      sealed: decodeSealed(sealed),
      context,
    });
    return { text, marked };
  }

  /** The safety number with `peer`, the same on both sides (and in the terminal's /verify). */
  async verify(conn: PageConnection, peer: string, accept = false): Promise<string> {
    const { name, key } = await this.keyOf(conn, peer);
    if (!key) throw new RequestError("KEY_MISSING", `${name} has no key yet`);
    // Accepting pins the key whose number was compared, never one that came after it.
    if (accept && this.#compared.get(name.toLowerCase()) !== key) {
      throw new RequestError(
        "KEY_CHANGED",
        `compare the safety number first (/verify ${name}); the key may have changed since`,
      );
    }
    if (accept) this.#pin(name, key, true);
    this.#compared.set(name.toLowerCase(), key);
    const me = { name: this.me, publicKey: this.id.publicKey };
    return await safetyNumber(me, { name, publicKey: key });
  }

  /** The "encrypt.sealer" service, for the file envelope (plugins/sendfile/sealing.ts). A
   *  file sealed with a key other than the pinned one is refused, as the terminal does. */
  sealer(conn: PageConnection): Sealer {
    return {
      seal: async (_ctx, peer, text, context) => {
        const s = await this.seal(conn, peer, text, context);
        return s && toB64u(enc.encode(JSON.stringify(s)));
      },
      open: async (_ctx, from, sealed, context, what) => {
        const opened = await this.open(
          from,
          this.me,
          JSON.parse(dec.decode(fromB64u(sealed))),
          context,
        );
        if (opened.marked) {
          throw new RequestError("KEY_CHANGED", `${what} from ${from} was sealed with a new key`);
        }
        return opened.text;
      },
      pinned: (peer) => this.isPinned(peer),
    };
  }
}
