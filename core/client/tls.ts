/**
 * The client's TLS connect with SSH-like trust on first use: a server with a CA-signed
 * certificate is simply accepted; a self-signed one must be pinned (known_hosts) after the
 * person compared its fingerprint with the one `classchat serve` printed; a pinned server
 * whose key changed is refused loudly.
 */
import type { CoreErrorCode } from "../../protocol/errors.ts";
import { derToPem, normalizeFingerprint } from "../tls/cert.ts";
import { hostKey, KnownHosts } from "./known_hosts.ts";
import { probeCertificate } from "./tls_probe.ts";

export type TrustErrorCode = Extract<
  CoreErrorCode,
  "UNTRUSTED" | "CERT_CHANGED" | "TRUST_MISMATCH" | "NAME_MISMATCH"
>;

export class TrustError extends Error {
  constructor(readonly code: TrustErrorCode, message: string) {
    super(message);
    this.name = "TrustError";
  }
}

export interface TrustOptions {
  hostname: string;
  port: number;
  knownHostsPath: string;
  /** --trust <fingerprint>: accept a server with exactly this fingerprint without asking. */
  trust?: string;
  /**
   * Asks the person whether to trust this fingerprint; absent when not interactive
   * (then: refuse).
   */
  ask?: (info: { hostKey: string; fingerprint: string }) => Promise<boolean>;
  /** Informational lines for the person (e.g. "trusted and saved ..."). */
  notice?: (text: string) => void;
  /** Limit for the TCP+TLS setup, so a server that never answers TLS cannot hang us. */
  timeoutMs?: number;
}

export interface TrustedConn {
  conn: Deno.TlsConn;
  /** Pinned or just trusted fingerprint; for a CA-signed server, read by a second connection. */
  fingerprint: string;
  firstContact: boolean;
}

export async function connectTrusted(o: TrustOptions): Promise<TrustedConn> {
  const hostname = o.hostname.trim().replace(/^\[(.*)\]$/, "$1");
  const key = hostKey(hostname, o.port);
  const timeoutMs = o.timeoutMs ?? 15_000;
  const wanted = o.trust === undefined ? undefined : normalizeFingerprint(o.trust);
  if (o.trust !== undefined && !wanted) {
    throw new TrustError(
      "TRUST_MISMATCH",
      `--trust ${o.trust} is not a SHA-256 fingerprint (32 bytes of hex, like AB:CD:...:EF)`,
    );
  }
  const open = (caCerts?: string[]) => openTls(hostname, o.port, key, timeoutMs, caCerts);

  const pinned = (await KnownHosts.load(o.knownHostsPath)).get(key);
  if (pinned) {
    try {
      return {
        conn: await open([pinned.certPem]),
        fingerprint: pinned.fingerprint,
        firstContact: false,
      };
    } catch (e) {
      if (!isCertError(e)) throw e;
      const now = await probeCertificate(hostname, o.port, timeoutMs);
      if (now.fingerprint !== pinned.fingerprint) {
        throw new TrustError(
          "CERT_CHANGED",
          keyChanged(key, o.knownHostsPath, pinned.fingerprint, now.fingerprint),
        );
      }
      throw pinnedCertError(e, key);
    }
  }

  // Not pinned: a certificate from a public CA needs no pinning.
  try {
    const conn = await open();
    const fingerprint = await probeCertificate(hostname, o.port, timeoutMs).then(
      (p) => p.fingerprint,
      () => "", // informational only: the connection itself is verified
    );
    return { conn, fingerprint, firstContact: false };
  } catch (e) {
    if (!isCertError(e)) throw e;
  }

  const seen = await probeCertificate(hostname, o.port, timeoutMs);
  if (wanted) {
    if (wanted !== seen.fingerprint) {
      throw new TrustError(
        "TRUST_MISMATCH",
        `The server at ${key} presents a different certificate than --trust says.\n` +
          `  --trust:        ${wanted}\n  server's key:   ${seen.fingerprint}\n` +
          "Check the fingerprint `classchat serve` printed (and that you are on the right " +
          "network).",
      );
    }
  } else if (!o.ask) {
    throw new TrustError(
      "UNTRUSTED",
      `The server at ${key} is not known yet; its certificate fingerprint is\n` +
        `  ${seen.fingerprint}\n` +
        "Compare it with the fingerprint `classchat serve` printed; if they are the same, " +
        "run again with\n" +
        `  --trust ${seen.fingerprint}`,
    );
  } else if (!await o.ask({ hostKey: key, fingerprint: seen.fingerprint })) {
    throw new TrustError(
      "UNTRUSTED",
      `Not trusted: the server at ${key} (${seen.fingerprint}); nothing saved.`,
    );
  }

  const certPem = derToPem(seen.der);
  let conn: Deno.TlsConn;
  try {
    conn = await open([certPem]);
  } catch (e) {
    throw isCertError(e) ? pinnedCertError(e, key) : e;
  }
  // Saved only once the pinned connection works; reloaded so a concurrent client's entry survives.
  try {
    await (await KnownHosts.load(o.knownHostsPath)).set(key, seen.fingerprint, certPem);
  } catch (e) {
    conn.close();
    throw e;
  }
  o.notice?.(`Trusted ${key} (${seen.fingerprint}) and saved it in ${o.knownHostsPath}`);
  return { conn, fingerprint: seen.fingerprint, firstContact: true };
}

/**
 * TCP connect, TCP_NODELAY, then TLS. Deno.TlsConn has no setNoDelay (Deno 2.9.6), so we set
 * it on the TCP connection before upgrading: chat lines are small writes that must not wait.
 */
async function openTls(
  hostname: string,
  port: number,
  key: string,
  timeoutMs: number,
  caCerts?: string[],
): Promise<Deno.TlsConn> {
  // One limit for the TCP connect (a wrong address can otherwise hang for minutes) and the
  // handshake (a plain TCP server may wait forever for a line). The signal stays tied to the
  // connection, so it may only fire before we return it.
  const abort = new AbortController();
  let tcp: Deno.TcpConn | undefined;
  let conn: Deno.TlsConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Neither the signal nor closing the TCP connection reaches a pending Deno.startTls (Deno
  // 2.9.6), so every step races this deadline instead.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      conn?.close();
      reject(new Deno.errors.TimedOut(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  deadline.catch(() => {});
  try {
    tcp = await Deno.connect({ hostname, port, signal: abort.signal }).catch((e) => {
      if (!abort.signal.aborted) throw e;
      throw new Error(`could not connect to ${key} within ${timeoutMs} ms`, { cause: e });
    });
    tcp.setNoDelay(true);
    const starting = Deno.startTls(tcp, { hostname, caCerts });
    // A handshake that ends after we gave up is closed when it does.
    starting.then((c) => abort.signal.aborted && c.close(), () => {});
    conn = await Promise.race([starting, deadline]);
    await Promise.race([conn.handshake(), deadline]);
    return conn;
  } catch (e) {
    try {
      (conn ?? tcp)?.close();
    } catch { /* already closed by the abort, or consumed by startTls */ }
    if (!tcp || isCertError(e)) throw e;
    if (abort.signal.aborted) throw notTls(key, `no TLS answer within ${timeoutMs} ms`, e);
    if (isNotTlsError(e)) throw notTls(key, (e as Error).message, e);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** rustls reports every certificate verification failure as "invalid peer certificate: ...". */
function isCertError(e: unknown): e is Error {
  return e instanceof Deno.errors.InvalidData && /invalid peer certificate/i.test(e.message);
}

/** What a peer that speaks plain TCP causes: garbage instead of a TLS record, or a hang-up. */
function isNotTlsError(e: unknown): boolean {
  return e instanceof Deno.errors.InvalidData || e instanceof Deno.errors.UnexpectedEof ||
    e instanceof Deno.errors.ConnectionReset;
}

function notTls(key: string, detail: string, cause: unknown): Error {
  return new Error(
    `the server at ${key} did not answer TLS: is it running with --no-tls? ` +
      `Then connect with --no-tls too (${detail})`,
    { cause },
  );
}

/**
 * Why the server's own (pinned) certificate was rejected: usually the name we connected to.
 * Other reasons (expired, ...) keep rustls' own message.
 */
function pinnedCertError(e: Error, key: string): Error {
  if (/CaUsedAsEndEntity/.test(e.message)) {
    return new Error(
      `The certificate of ${key} is marked as a CA (basicConstraints CA:TRUE), and TLS refuses ` +
        `to pin such a certificate. The server should use a certificate with CA:FALSE ` +
        `(the one \`classchat serve\` generates is). (${e.message})`,
      { cause: e },
    );
  }
  const m = /not valid for name (.*?); certificate is only valid for (.*)$/s.exec(e.message);
  if (!m && !/NotValidForName/.test(e.message)) return e;
  // rustls lists the names as DnsName("x") / IpAddress(y); show them as a person types them.
  const names = m?.[2].replace(/DnsName\("([^"]*)"\)|IpAddress\(([^)]*)\)/g, (_, d, i) => d ?? i);
  const valid = names ? `\nIt is valid for: ${names}.` : "";
  return new TrustError(
    "NAME_MISMATCH",
    `The server at ${key} has the trusted certificate, but it is not valid for the name you used.` +
      `${valid}\nConnect with a name or address the certificate contains, or have the ` +
      `instructor add this one to the server's certificate.`,
  );
}

function keyChanged(key: string, path: string, was: string, now: string): string {
  const bar = "@".repeat(59);
  return [
    bar,
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
    bar,
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
    `The server at ${key} now presents a different certificate than the one you trusted.`,
    "Someone could be intercepting this connection (a man-in-the-middle attack),",
    "or the instructor regenerated the server's key.",
    `  trusted fingerprint: ${was}`,
    `  server now shows:    ${now}`,
    "If the instructor really regenerated the key, compare the new fingerprint with the one",
    `\`classchat serve\` printed, then remove the line for ${key} from`,
    `  ${path}`,
    "and connect again. Nothing was sent to the server.",
  ].join("\n");
}
