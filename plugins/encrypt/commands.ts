/** /verify and /e2e: the person's side of end-to-end encryption. */
import { type CommandDef, UsageError } from "../types.ts";
import { type E2eState, keyMissing, keyOf, pinOf } from "./peers.ts";
import { keyFingerprint, safetyNumber } from "./crypto.ts";

// /verify <user> [accept]
export function verifyCommand(st: E2eState): CommandDef {
  return {
    name: "verify",
    usage: "/verify <user> [accept]",
    summary: "show the safety number to compare with <user>; accept trusts their current key",
    async run(input, ctx) {
      const [who, word] = input.args;
      const { ui } = ctx;
      if (!who || (word !== undefined && word !== "accept")) {
        throw new UsageError();
      }
      // A pinned key the server no longer offers is explained, never accepted away: there is
      // nothing to compare, and dropping the pin would let everything go in the clear.
      const missing = (name: string) => ui.error("KEY_MISSING", keyMissing(name).message);
      if (!st.me || !st.peers) {
        if (pinOf(st, who)) return missing(who);
        return ui.error("E2E_FAILED", "this server does not offer end-to-end encryption");
      }
      const { name, key } = await keyOf(st, ctx, who, true);
      if (!key) {
        if (pinOf(st, name)) return missing(name);
        return ui.error("NO_KEY", `${name} has no encryption key yet`);
      }
      const number = await safetyNumber(
        { name: ctx.me, publicKey: st.me.publicKey },
        { name, publicKey: key },
      );
      ui.notice(`safety number with ${name}: ${number}`);
      ui.notice(`(${name}'s key ${await keyFingerprint(key)})`);
      const status = st.peers.check(name, key);
      if (word === "accept") {
        await st.peers.pin(name, key);
        await st.peers.markVerified(name, key);
        st.told.delete(`changed:${name.toLowerCase()}`);
        return ui.notice(`${name}'s key is trusted from now on`);
      }
      if (status === "changed") {
        return ui.error(
          "KEY_CHANGED",
          `${name}'s key is not the one you had. If this number matches what ${name} sees, ` +
            `accept it with /verify ${name} accept`,
        );
      }
      ui.notice(
        `ask ${name} to run /verify ${ctx.me}: the same number means nobody is in between.` +
          (st.peers.get(name)?.verified ? " (you verified this key before)" : ""),
      );
    },
  };
}

// /e2e [on|off]
export function e2eCommand(st: E2eState): CommandDef {
  return {
    name: "e2e",
    usage: "/e2e [on|off]",
    summary: "end-to-end encryption of direct messages (on by default)",
    async run(input, ctx) {
      const word = input.args[0]?.toLowerCase();
      if (word === "on" || word === "off") st.enabled = word === "on";
      else if (word !== undefined) throw new UsageError();
      const fp = st.me ? ` (your key ${await keyFingerprint(st.me.publicKey)})` : "";
      ctx.ui.notice(
        st.enabled
          ? `end-to-end encryption is on for direct messages to users with a key${fp}`
          : "end-to-end encryption is OFF: the server can read your direct messages",
      );
    },
  };
}
