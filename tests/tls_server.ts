/** A tiny TLS server for the TLS tests: no chat, just a handshake and a greeting. */
import { fingerprintOfPem, generateSelfSigned } from "../core/tls/cert.ts";

export type Tls = { cert: string; key: string };

/** A TLS server on 127.0.0.1 that sends "hello\n" to each client completing the handshake.
 *  Without `tls` it makes a certificate for `names` (default 127.0.0.1). */
export async function helloServer(opts: { names?: string[]; port?: number; tls?: Tls } = {}) {
  const tls = opts.tls ?? await generateSelfSigned({ names: opts.names ?? ["127.0.0.1"] });
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port: opts.port ?? 0, ...tls });
  const served: Promise<void>[] = [];
  // Probes and refusing clients hang up during the handshake: not an error here.
  const serve = (c: Deno.TlsConn) =>
    c.handshake().then(() => c.write(new TextEncoder().encode("hello\n"))).then(() => {}, () => {})
      .finally(() => c.close());
  const loop = (async () => {
    for await (const c of listener) served.push(serve(c));
  })();
  return {
    port: listener.addr.port,
    cert: tls.cert,
    fingerprint: await fingerprintOfPem(tls.cert),
    async close() {
      listener.close();
      await loop.catch(() => {});
      await Promise.all(served);
    },
  };
}

/** Everything the server sends; the readable closes the connection at EOF. */
export function readAll(conn: Deno.Conn): Promise<string> {
  return new Response(conn.readable).text();
}
