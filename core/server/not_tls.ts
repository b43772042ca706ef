/**
 * What the TLS port says to a peer whose first bytes are not a TLS handshake: a person who
 * typed a line into nc or telnet, or a program run against a --no-tls server's address. One
 * line, then the connection is closed:
 *
 *   closing TLS_REQUIRED: this port speaks TLS: ...                     (it sent plain text)
 *   {"type":"session.closing","code":"TLS_REQUIRED","message":"..."}    (it sent JSON)
 *
 * The rule is the plain port's mode choice (core/server/router.ts): a first line starting with "{"
 * comes from a program reading frames, anything else from a person reading lines.
 */
import type { Socket } from "node:net";
import { unmapped } from "./conn.ts";
import type { CoreErrorCode } from "../../protocol/errors.ts";

/** The first byte of a TLS record carrying a handshake message: every ClientHello starts so. */
export const TLS_HANDSHAKE = 0x16;
/** How long a told peer has to read the line before its socket is reset. A reset is what makes
 *  OpenBSD nc (Debian's and Ubuntu's nc) exit: a FIN alone leaves it waiting for a keystroke.
 *  Sent before the peer has read the line, it would destroy the line; the line needs a round
 *  trip to arrive and nc reads at once, so a second is plenty. A peer that closes first is
 *  closed at once. */
export const NOT_TLS_LINGER_MS = 1000;
/** Why the handshake failed, as the server logs it (one line, see Guard). */
export const NOT_TLS_REASON = "plain text, not a TLS handshake (told to use TLS, then closed)";

const CODE: CoreErrorCode = "TLS_REQUIRED";
const OPEN_BRACE = 0x7b;
const BLANKS = new Set([0x20, 0x09, 0x0d, 0x0a]);

/** The line for a peer that sent `first` to this socket's address, with its newline. */
export function notTlsLine(raw: Socket, first: Uint8Array): string {
  const host = unmapped(raw.localAddress ?? "127.0.0.1");
  const port = raw.localPort ?? 5757;
  const where = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const message = `this port speaks TLS: connect with "classchat connect", or type` +
    ` "openssl s_client -quiet -connect ${where}" instead of nc;` +
    ` plain nc works only if the server runs with --no-tls (ask your instructor)`;
  const json = first.find((b) => !BLANKS.has(b)) === OPEN_BRACE;
  return json
    ? JSON.stringify({ type: "session.closing", code: CODE, message }) + "\n"
    : `closing ${CODE}: ${message}\n`;
}

/**
 * Tells the peer (the line above) and half-closes; discards what it still sends. Calls `done`
 * once the line is written and the peer has closed too, or once the socket is reset
 * NOT_TLS_LINGER_MS after the line, or when the socket closes (e.g. at its deadline); the
 * caller closes the socket then.
 */
export function tellNotTls(raw: Socket, first: Uint8Array, done: () => void): void {
  let written = false;
  let peerEnded = false;
  let finished = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finish = () => {
    clearTimeout(timer);
    if (!finished) done();
    finished = true;
  };
  raw.once("end", () => (peerEnded = true) && written && finish());
  raw.once("close", finish);
  raw.on("data", () => {}); // read and dropped: input left unread would reset the line away
  raw.resume();
  raw.write(notTlsLine(raw, first), () => {
    written = true;
    raw.end();
    if (peerEnded) return finish();
    timer = setTimeout(() => {
      // resetAndDestroy: node 16.17+; without it, a plain close (nc waits for a keystroke).
      const r = raw as Socket & { resetAndDestroy?(): void };
      if (r.resetAndDestroy) r.resetAndDestroy();
      else raw.destroy();
      finish();
    }, NOT_TLS_LINGER_MS);
  });
}
