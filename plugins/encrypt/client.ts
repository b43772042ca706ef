/**
 * The client half of end-to-end encryption: publishes this account's public key at login,
 * seals outgoing direct messages and opens incoming ones (via intercepts on the dm plugin's
 * frames), pins each peer's key on first use and refuses to send to a changed key until the
 * person has compared safety numbers (/verify).
 */
import { ChatError } from "../../protocol/errors.ts";
import type { ClientApi, ClientCtx } from "../types.ts";
import { DmMessage, DmSend } from "../dm/protocol.ts";
import { decodeSealed, type Identity, isPublicKey, keyFingerprint, open, seal } from "./crypto.ts";
import { loadOrCreateIdentity, PeerKeys } from "./keystore.ts";
import { EncryptChanged, EncryptKey, EncryptPublish, KeyAck } from "./protocol.ts";
import { e2eCommand, verifyCommand } from "./commands.ts";

/** What one running client knows; made anew at each login. */
export interface E2eState {
  me?: Identity;
  peers?: PeerKeys;
  enabled: boolean;
  /** The keys the server holds for peers, as last fetched or pushed (lower-cased names). */
  keys: Map<string, { name: string; key: string | null }>;
  /** Peers already told of once this session ("no key yet", "key changed"). */
  told: Set<string>;
}

export function encryptClient(api: ClientApi) {
  const st: E2eState = { enabled: true, keys: new Map(), told: new Set() };

  api.onLogin(async (ctx) => {
    const { identity, created } = await loadOrCreateIdentity(ctx.server, ctx.me);
    st.me = identity;
    st.peers = await PeerKeys.load(ctx.server, ctx.me);
    st.keys.clear();
    const ack = await ctx.request(EncryptPublish, { key: identity.publicKey });
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
    if (!st.enabled || !st.me || msg.text === undefined) return msg;
    const { name, key } = await keyOf(st, ctx, msg.receiver);
    if (!key) {
      if (!st.told.has(`nokey:${name.toLowerCase()}`)) {
        st.told.add(`nokey:${name.toLowerCase()}`);
        ctx.ui.notice(`not end-to-end encrypted: ${name} has no key yet`);
      }
      return msg;
    }
    if (st.peers!.check(name, key) === "changed") {
      throw new ChatError(
        "KEY_CHANGED",
        `${name}'s encryption key changed since you last wrote; nothing was sent. Compare ` +
          `safety numbers with ${name} (/verify ${name}), then accept with /verify ${name} accept`,
      );
    }
    await st.peers!.pin(name, key);
    const parties = {
      sender: ctx.me,
      senderKey: st.me.publicKey,
      receiver: name,
      receiverKey: key,
    };
    const sealed = await seal({ ...parties, myPrivate: st.me.privateKey, text: msg.text });
    // The keys travel with the message so the receiver can check them against its pins.
    return { receiver: msg.receiver, sealed: { ...sealed, from: st.me.publicKey, to: key } };
  });

  // dm.message with sealed -> with text, opened with our key and the sender's.
  api.intercept(DmMessage, "in", async (msg, ctx) => {
    if (!msg.sealed) return msg;
    const { from, to } = msg.sealed;
    if (!st.me || !isPublicKey(from) || !isPublicKey(to)) {
      throw new ChatError("E2E_FAILED", `cannot open a message from ${msg.sender}`);
    }
    if (to !== st.me.publicKey) {
      throw new ChatError(
        "E2E_FAILED",
        `${msg.sender} sealed a message for another key of yours (another computer?)`,
      );
    }
    if (st.peers!.check(msg.sender, from) === "changed") warnChanged(st, ctx, msg.sender);
    else await st.peers!.pin(msg.sender, from);
    const text = await open({
      sender: msg.sender,
      senderKey: from,
      receiver: msg.receiver,
      receiverKey: to,
      myPrivate: st.me.privateKey,
      myKey: st.me.publicKey,
      sealed: decodeSealed(msg.sealed),
    }).catch((e) => {
      throw new ChatError("E2E_FAILED", `a message from ${msg.sender}: ${e.message}`);
    });
    return { ...msg, sealed: undefined, text };
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

/** The server's current key for `name`, fetched once per session (pushes keep it fresh). */
export async function keyOf(st: E2eState, ctx: ClientCtx, name: string, fresh = false) {
  const cached = st.keys.get(name.toLowerCase());
  if (cached && !fresh) return cached;
  const ack = KeyAck.decode(await ctx.request(EncryptKey, { name }));
  st.keys.set(name.toLowerCase(), ack);
  return ack;
}

function warnChanged(st: E2eState, ctx: ClientCtx, name: string) {
  if (st.told.has(`changed:${name.toLowerCase()}`)) return;
  st.told.add(`changed:${name.toLowerCase()}`);
  ctx.ui.error(
    "KEY_CHANGED",
    `this message from ${name} was sealed with a new key. Compare /verify ${name} with them`,
  );
}
