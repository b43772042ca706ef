/**
 * Fetches a server's certificate without trusting it, to show its fingerprint to a person.
 * Deno.connectTls cannot do that (it only reports that verification failed), node:tls with
 * rejectUnauthorized:false can. Nothing is sent over this connection.
 */
import { connect } from "node:tls";
import { isIP } from "node:net";
import { fingerprintOfDer } from "../tls/cert.ts";

export async function probeCertificate(
  hostname: string,
  port: number,
  timeoutMs = 10_000,
): Promise<{ fingerprint: string; der: Uint8Array }> {
  const host = hostname.replace(/^\[(.*)\]$/, "$1");
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const raw = await new Promise<Uint8Array & { fingerprint256?: string }>((resolve, reject) => {
    let outcome: { ok: Uint8Array & { fingerprint256?: string } } | { err: Error } | undefined;
    const socket = connect({
      host,
      port,
      // SNI must not carry an IP address (RFC 6066); node warns if it does.
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
    });
    const settle = (o: NonNullable<typeof outcome>) => {
      outcome ??= o;
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(
      () => settle({ err: new Error(`no TLS answer from ${where} within ${timeoutMs} ms`) }),
      timeoutMs,
    );
    socket.once("secureConnect", () => {
      const peer = socket.getPeerCertificate();
      if (!peer?.raw?.length) {
        settle({ err: new Error(`the server at ${where} sent no TLS certificate`) });
        return;
      }
      const der = Object.assign(new Uint8Array(peer.raw), { fingerprint256: peer.fingerprint256 });
      settle({ ok: der });
    });
    socket.on("error", (e: Error) => {
      settle({
        err: new Error(`could not read the TLS certificate of ${where}: ${e.message}`, {
          cause: e,
        }),
      });
    });
    // Settle only once the socket is really gone, so that no resource outlives the call.
    socket.once("close", () => {
      clearTimeout(timer);
      const o = outcome ?? { err: new Error(`${where} closed the connection during TLS setup`) };
      if ("ok" in o) resolve(o.ok);
      else reject(o.err);
    });
  });
  const fingerprint = await fingerprintOfDer(raw);
  // Our fingerprint is what users compare with `openssl x509 -fingerprint -sha256`; check that
  // it is the same thing node computes, so the two can never disagree silently.
  if (raw.fingerprint256 && raw.fingerprint256 !== fingerprint) {
    throw new Error(`fingerprint mismatch: computed ${fingerprint}, node ${raw.fingerprint256}`);
  }
  return { fingerprint, der: new Uint8Array(raw) };
}
