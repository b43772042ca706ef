/**
 * The client half of end-to-end encryption: publishes this account's public key at login,
 * seals outgoing direct messages and opens incoming ones (via intercepts on the dm plugin's
 * frames), pins each peer's key on first use and refuses to send to a changed key until the
 * person has compared safety numbers (/verify). A pinned peer's key the server stops offering
 * is refused the same way (KEY_MISSING), never taken as "send it in the clear"; what comes
 * unsealed from a pinned peer is marked as not end-to-end encrypted (NOT_ENCRYPTED), and what
 * comes sealed with a key other than the sender's pinned one is marked on every line
 * (UNVERIFIED KEY), until the person accepts that key.
 */
import { ChatError } from "../../protocol/errors.ts";
import type { ClientApi, ClientCtx } from "../types.ts";
import type { Sealer } from "../services.ts";
import { DmMessage, DmSend } from "../dm/protocol.ts";
import { decodeSealed, isPublicKey, keyFingerprint, open, seal } from "./crypto.ts";
import { fromB64u, toB64u } from "../../protocol/base64url.ts";
import { loadOrCreateIdentity, PeerKeys } from "./keystore.ts";
import { EncryptChanged, EncryptPublish } from "./protocol.ts";
import { e2eCommand, verifyCommand } from "./commands.ts";
import { type E2eState, keyMissing, keyOf, markChanged, markUnsealed, pinOf } from "./peers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encryptClient(api: ClientApi) {
  const st: E2eState = { enabled: true, keys: new Map(), told: new Set() };

  api.onLogin(async (ctx) => {
    const { identity, created } = await loadOrCreateIdentity(api.configDir(), ctx.server, ctx.me);
    st.me = identity;
    // Loaded even from a server without encryption: the pins still guard the peers in them.
    st.peers = await PeerKeys.load(api.configDir(), ctx.server, ctx.me);
    st.keys.clear();
    let ack;
    try {
      ack = await ctx.request(EncryptPublish, { key: identity.publicKey });
    } catch (e) {
      // A server run with --disable encrypt: chat on, unsealed (no peer could get our key),
      // except to pinned peers (sealFor): to the server it looks the same as hiding their key.
      if (!(e instanceof ChatError) || e.code !== "UNKNOWN_TYPE") throw e;
      st.me = undefined;
      return ctx.ui.notice(
        "this server does not offer end-to-end encryption: the server can read your messages",
      );
    }
    const fp = await keyFingerprint(identity.publicKey);
    if (created) ctx.ui.notice(`made your end-to-end encryption key (fingerprint ${fp})`);
    if (ack.replaced) {
      ctx.ui.notice(
        "this computer's key replaced your earlier one on the server: people you write to" +
          " will see a key-change warning (compare /verify with them)",
      );
    }
  });

  // dm.send with text -> dm.send with sealed, when encryption is on and the peer has a key.
  api.intercept(DmSend, "out", async (msg, ctx) => {
    if (msg.text === undefined) return msg;
    const sealed = await sealFor(st, ctx, msg.receiver, msg.text);
    return sealed ? { receiver: msg.receiver, sealed } : msg;
  });

  // dm.message with sealed -> with text, opened with our key and the sender's. Live, missed
  // and /history replays all come through here, so none escapes the marks.
  api.intercept(DmMessage, "in", async (msg, ctx) => {
    if (!msg.sealed) return markUnsealed(st, ctx, msg);
    // /history replays our own side too: we sealed it, so we can open it.
    if (msg.sender.toLowerCase() === ctx.me.toLowerCase()) {
      const text = await openOwn(st, msg.sender, msg.receiver, msg.sealed);
      return { ...msg, sealed: undefined, text };
    }
    const opened = await openFrom(st, msg.sender, msg.receiver, msg.sealed, "a message");
    const text = opened.pinned ? opened.text : markChanged(st, ctx, msg.sender, opened.text);
    return { ...msg, sealed: undefined, text };
  });

  // Other plugins seal short secrets (sendfile: a file's key) the same way, as base64url.
  api.provide<Sealer>("encrypt.sealer", {
    async seal(ctx, peer, text, context) {
      const sealed = await sealFor(st, ctx, peer, text, context);
      return sealed && toB64u(enc.encode(JSON.stringify(sealed)));
    },
    open(ctx, sender, sealed, context, what) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(dec.decode(fromB64u(sealed)));
      } catch {
        throw new ChatError("E2E_FAILED", `${what} from ${sender} is not sealed properly`);
      }
      return openFrom(st, sender, ctx.me, obj, what, context, true).then((o) => o.text);
    },
    pinned: (peer) => pinOf(st, peer) !== undefined,
  });

  api.on(EncryptChanged, (m, ui) => {
    st.keys.set(m.name.toLowerCase(), { name: m.name, key: m.key });
    if (st.peers?.check(m.name, m.key) === "changed") {
      ui.error(
        "KEY_CHANGED",
        `${m.name} has a new encryption key (a new computer, or someone else). ` +
          `Compare /verify ${m.name} with them before you write`,
      );
    }
  });

  api.command(verifyCommand(st));
  api.command(e2eCommand(st));
}

/** Seals `text` for `peer`, or undefined when it goes in the clear: encryption is off, or a
 *  peer never pinned has no key yet (said once). A pinned key that changed or that the server
 *  no longer offers is refused: nothing goes out. */
async function sealFor(st: E2eState, ctx: ClientCtx, peer: string, text: string, context?: string) {
  // Off by the person's own choice (/e2e off, announced loudly): in the clear, as asked.
  if (!st.enabled) return undefined;
  if (!st.me) {
    // This server offers no encryption (said at login): fine for peers never pinned only.
    if (pinOf(st, peer)) throw keyMissing(peer);
    return undefined;
  }
  let { name, key } = await keyOf(st, ctx, peer);
  // A cached "no key" may be stale: a key published to a server that had lost it pushes no
  // encrypt.changed (that goes out only when a key replaces another), so ask again.
  if (!key && pinOf(st, peer)) ({ name, key } = await keyOf(st, ctx, peer, true));
  if (!key) {
    if (pinOf(st, name)) throw keyMissing(name);
    if (!st.told.has(`nokey:${name.toLowerCase()}`)) {
      st.told.add(`nokey:${name.toLowerCase()}`);
      ctx.ui.notice(`not end-to-end encrypted: ${name} has no key yet`);
    }
    return undefined;
  }
  if (st.peers!.check(name, key) === "changed") {
    throw new ChatError(
      "KEY_CHANGED",
      `${name}'s encryption key changed since you last wrote; nothing was sent. Compare ` +
        `safety numbers with ${name} (/verify ${name}), then accept with /verify ${name} accept`,
    );
  }
  await st.peers!.pin(name, key);
  const parties = { sender: ctx.me, senderKey: st.me.publicKey, receiver: name, receiverKey: key };
  const sealed = await seal({ ...parties, myPrivate: st.me.privateKey, text, context });
  // The keys travel with it so the receiver can check them against its pins.
  return { ...sealed, from: st.me.publicKey, to: key };
}

/** Opens a message we sealed for `receiver` (ECDH works from either end: our private key and
 *  their public one). One sealed on another computer of ours used that computer's key. */
async function openOwn(
  st: E2eState,
  sender: string,
  receiver: string,
  sealed: Record<string, unknown>,
) {
  const { from, to } = sealed;
  if (!st.me || !isPublicKey(from) || !isPublicKey(to)) {
    throw new ChatError("E2E_FAILED", `cannot open your message to ${receiver}`);
  }
  if (from !== st.me.publicKey) {
    throw new ChatError(
      "E2E_FAILED",
      `your message to ${receiver} was sealed on another computer of yours (another key)`,
    );
  }
  try {
    return await open({
      sender,
      senderKey: from,
      receiver,
      receiverKey: to,
      myPrivate: st.me.privateKey,
      myKey: from,
      sealed: decodeSealed(sealed),
    });
  } catch (e) {
    throw new ChatError("E2E_FAILED", `your message to ${receiver}: ${(e as Error).message}`);
  }
}

/** Opens what `sender` sealed for `receiver` (me), checking the sender's key against its pin:
 *  `pinned` is false when it was sealed with a key other than the pinned one (never in strict
 *  mode, which refuses that), and the caller marks what it shows. */
async function openFrom(
  st: E2eState,
  sender: string,
  receiver: string,
  sealed: Record<string, unknown>,
  what: string,
  context?: string,
  /** Refuse, rather than open for marking, when the sender's key is not the pinned one (files:
   *  see markChanged). */
  strict = false,
): Promise<{ text: string; pinned: boolean }> {
  const { from, to } = sealed;
  if (!st.me || !isPublicKey(from) || !isPublicKey(to)) {
    throw new ChatError("E2E_FAILED", `cannot open ${what} from ${sender}`);
  }
  if (to !== st.me.publicKey) {
    throw new ChatError(
      "E2E_FAILED",
      `${sender} sealed ${what} for another key of yours (another computer?)`,
    );
  }
  const pinned = st.peers!.check(sender, from) !== "changed";
  if (!pinned && strict) {
    throw new ChatError(
      "KEY_CHANGED",
      `${what} from ${sender} was sealed with a new key; compare /verify ${sender} with them,` +
        ` then accept with /verify ${sender} accept`,
    );
  }
  if (pinned) await st.peers!.pin(sender, from); // pinned on first use; the same key: no-op
  const parties = { sender, senderKey: from, receiver, receiverKey: to };
  try {
    const text = await open({
      ...parties,
      myPrivate: st.me.privateKey,
      myKey: st.me.publicKey,
      sealed: decodeSealed(sealed),
      context,
    });
    return { text, pinned };
  } catch (e) {
    throw new ChatError("E2E_FAILED", `${what} from ${sender}: ${(e as Error).message}`);
  }
}
