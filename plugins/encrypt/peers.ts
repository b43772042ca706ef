/**
 * What the encrypt plugin's client knows about peers, and the rules that guard them: the
 * server's keys as fetched, the pins on this computer, and what happens when the two disagree
 * (a changed key: KEY_CHANGED, and its messages marked UNVERIFIED KEY; a vanished one:
 * KEY_MISSING; an unsealed message from a pinned peer: NOT_ENCRYPTED).
 */
import { ChatError } from "../../protocol/errors.ts";
import { NAME_PATTERN } from "../../protocol/limits.ts";
import type { ClientCtx } from "../types.ts";
import type { Identity } from "./crypto.ts";
import type { PeerKeys } from "./keystore.ts";
import { EncryptKey } from "./protocol.ts";

/** What one running client knows: one for the whole run, keys and identity renewed at login. */
export interface E2eState {
  me?: Identity;
  peers?: PeerKeys;
  enabled: boolean;
  /** The keys the server holds for peers, as last fetched or pushed (lower-cased names). */
  keys: Map<string, { name: string; key: string | null }>;
  /** Peers already told of once this session ("no key yet", "key changed", "unsealed"). */
  told: Set<string>;
}

/** Put before the text of an unsealed message from a pinned peer, on the line it is shown. */
export const NOT_E2E_MARK = "[NOT end-to-end encrypted] ";
/** Put before a direct message that came unsealed from someone never pinned: a small mark, as
 *  nothing suggests foul play, but a sealed line (unmarked) and this one are told apart. */
export const PLAIN_MARK = "[unencrypted] ";

/** The server's current key for `name`, fetched once per session (pushes keep it fresh). */
export async function keyOf(st: E2eState, ctx: ClientCtx, name: string, fresh = false) {
  const cached = st.keys.get(name.toLowerCase());
  if (cached && !fresh) return cached;
  const ack = await ctx.request(EncryptKey, { name });
  // Pins are looked up by the name in the answer: one for someone else would slip past them.
  if (ack.name.toLowerCase() !== name.toLowerCase()) {
    throw new ChatError("E2E_FAILED", `asked for ${name}'s key, the server gave ${ack.name}'s`);
  }
  st.keys.set(name.toLowerCase(), ack);
  return ack;
}

/** `name`'s pinned key, if any (undefined too for a string that is no user name). */
export function pinOf(st: E2eState, name: string) {
  return NAME_PATTERN.test(name) ? st.peers?.get(name) : undefined;
}

/** The refusal when the server no longer offers a pinned peer's key (or no encryption at all):
 *  to the client, a key that vanished is as suspect as one that changed. */
export function keyMissing(name: string): ChatError {
  return new ChatError(
    "KEY_MISSING",
    `nothing was sent to ${name}: the server no longer offers ${name}'s end-to-end key, which ` +
      `you pinned (a server fault, or an attack). When ${name} logs in again their client ` +
      `publishes it; then check /verify ${name}. To write to ${name} unencrypted anyway, ` +
      `turn encryption off with /e2e off`,
  );
}

/**
 * An unsealed message from a peer whose key is pinned: the server could have read it, or
 * written it itself. Shown (the peer may have turned /e2e off), but marked on its own line and
 * explained once per peer. Peers never pinned are trusted on first use, as before; our own
 * messages coming back are not this check's business.
 */
export function markUnsealed<T extends { sender: string; text?: string }>(
  st: E2eState,
  ctx: ClientCtx,
  msg: T,
): T {
  const { sender, text } = msg;
  if (text === undefined || sender.toLowerCase() === ctx.me.toLowerCase()) return msg;
  // Never pinned (their client has no key, say): not suspicious, but the line still says it
  // was not sealed, so a receiver can always tell; unless this server offers no encryption at
  // all (said once at login), where no line is sealed and marking each would be noise.
  if (!pinOf(st, sender)) {
    return st.me ? { ...msg, text: ctx.ui.style.dim(PLAIN_MARK) + text } : msg;
  }
  if (!st.told.has(`unsealed:${sender.toLowerCase()}`)) {
    st.told.add(`unsealed:${sender.toLowerCase()}`);
    ctx.ui.error(
      "NOT_ENCRYPTED",
      `a message from ${sender} came without end-to-end encryption, though you pinned ` +
        `${sender}'s key: the server could have read or forged it (or ${sender} turned /e2e ` +
        `off). Such lines are marked ${NOT_E2E_MARK.trim()}; ask ${sender} another way`,
    );
  }
  return { ...msg, text: NOT_E2E_MARK + text };
}

/** Put before the text of a direct message sealed with a key other than the one pinned for its
 *  sender, on the line it is shown, until the person accepts that key (/verify accept). */
export const UNVERIFIED_MARK = "[UNVERIFIED KEY] ";

/**
 * A direct message sealed with a key other than the one pinned for its sender: the peer on a
 * new computer, or the server, which can seal "from" anyone with a key pair of its own to our
 * real key. Marked on every line, not refused: a new computer's messages stay readable (often
 * they are what says "compare /verify with me"), as unsealed ones from a pinned peer are, which
 * the server could forge just as well; and with every line marked, none of its lines looks like
 * a genuine one. Files are refused instead (Sealer.open is strict): one lands on disk with no
 * line to carry a mark. Explained once per peer, and again after each /verify accept.
 */
export function markChanged(st: E2eState, ctx: ClientCtx, name: string, text: string): string {
  if (!st.told.has(`changed:${name.toLowerCase()}`)) {
    st.told.add(`changed:${name.toLowerCase()}`);
    ctx.ui.error(
      "KEY_CHANGED",
      `a message from ${name} was sealed with a key other than the one you pinned for ` +
        `${name}: ${name} on a new computer, or the server forging it. Such lines are marked ` +
        `${UNVERIFIED_MARK.trim()} until you compare /verify ${name} with them and accept the ` +
        `key with /verify ${name} accept`,
    );
  }
  return UNVERIFIED_MARK + text;
}
