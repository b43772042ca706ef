/**
 * The server's TLS material for `classchat serve`: the operator's certificate (--tls-cert and
 * --tls-key), or a key pair and self-signed certificate generated on first start in the data
 * directory and kept from then on, so the fingerprint students pinned stays valid.
 */
import { UsageError } from "./options.ts";
import { loadOrCreateServerTls, loadTlsFiles, serverNames } from "../core/tls/cert.ts";

export interface TlsFlags {
  tls: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsName: string[];
  host: string;
  data: string;
}

/** Resolves the flags to PEM material (undefined with --no-tls) and prints what students need. */
export async function serverTls(o: TlsFlags): Promise<{ cert: string; key: string } | undefined> {
  if (!o.tls) {
    if (o.tlsCert || o.tlsKey) {
      throw new UsageError("--no-tls cannot be combined with --tls-cert/--tls-key");
    }
    console.error(
      "classchat: WARNING: --no-tls: passwords and messages cross the network unencrypted;" +
        " use this only for lab demonstrations",
    );
    return undefined;
  }
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (o.tlsCert && o.tlsKey) {
    const own = await loadTlsFiles(o.tlsCert, o.tlsKey);
    console.log(`classchat: TLS certificate ${o.tlsCert} (SHA-256 fingerprint ${own.fingerprint})`);
    return own;
  }
  await Deno.mkdir(o.data, { recursive: true });
  const names = serverNames(o.host, o.tlsName);
  const made = await loadOrCreateServerTls(o.data, names);
  if (made.created) {
    console.log(
      `classchat: created a key pair and a self-signed certificate in ${o.data}/tls` +
        ` for ${names.join(", ")}`,
    );
  }
  // Printed on every start: students compare it with what their client shows on first contact.
  console.log(`classchat: TLS fingerprint (SHA-256) ${made.fingerprint}`);
  return made;
}
