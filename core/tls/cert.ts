/**
 * Server certificates for SSH-style pinning: a classroom server has no CA-signed certificate,
 * so it makes a self-signed one once, keeps it for years, and clients pin its fingerprint.
 */
import { writePrivateFile } from "../config_dir.ts";
import { loadX509 } from "./x509_lib.ts";

export interface TlsFiles {
  cert: string;
  key: string;
  fingerprint: string;
}

export interface ServerTls extends TlsFiles {
  created: boolean;
  certPath: string;
  keyPath: string;
}

const DAY_MS = 86_400_000;

/**
 * A self-signed ECDSA P-256 certificate for `names` and its PKCS#8 private key, both PEM.
 * CA:FALSE matters: rustls (Deno.connectTls) rejects a pinned certificate marked as a CA
 * with CaUsedAsEndEntity.
 */
export async function generateSelfSigned(
  opts: { names: string[]; commonName?: string; days?: number },
): Promise<{ cert: string; key: string }> {
  const x509 = await loadX509();
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const sans = opts.names.map((n) => {
    const ip = ipLiteral(n);
    return ip ? { type: "ip" as const, value: ip } : { type: "dns" as const, value: n };
  });
  // An hour of slack so that a client whose clock is a little behind accepts a new certificate.
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(notBefore.getTime() + (opts.days ?? 3650) * DAY_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // An object value: a plain string value gets DN-string processing (quotes, backslashes, a
    // leading "#") by the library and would be mangled.
    name: new x509.Name([{ CN: [{ utf8String: opts.commonName ?? "ClassChat server" }] }]),
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { cert: cert.toString("pem") + "\n", key: pemBlock("PRIVATE KEY", pkcs8) };
}

/** SHA-256 of the certificate DER as `AB:CD:...`, as openssl and node's fingerprint256 show it. */
export async function fingerprintOfDer(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der as BufferSource));
  return [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

export function fingerprintOfPem(pem: string): Promise<string> {
  return fingerprintOfDer(pemToDer(pem));
}

/** The canonical `AB:CD:...` form of what a person typed, or undefined if it is not 32 bytes. */
export function normalizeFingerprint(s: string): string | undefined {
  const hex = s.trim().replace(/^sha-?256\s*[:=]\s*/i, "").replaceAll(":", "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return hex.toUpperCase().match(/../g)!.join(":");
}

export function derToPem(der: Uint8Array): string {
  return pemBlock("CERTIFICATE", der);
}

/** The DER of the first CERTIFICATE block (a chain file starts with the server's own one). */
export function pemToDer(pem: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("no PEM CERTIFICATE block found");
  return Uint8Array.fromBase64(m[1].replace(/\s+/g, ""));
}

function pemBlock(label: string, der: Uint8Array): string {
  const lines = der.toBase64().match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * The canonical text of an IPv4/IPv6 literal (zone and brackets removed), else undefined.
 * IPv6 goes through the URL parser, which validates it and rewrites forms such as
 * `::ffff:1.2.3.4` to plain hex, which the x509 library would otherwise mis-encode.
 */
export function ipLiteral(name: string): string | undefined {
  const n = name.trim().replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(n);
  if (v4) {
    return v4.slice(1).every((o) => Number(o) <= 255)
      ? v4.slice(1).map(Number).join(".")
      : undefined;
  }
  if (!n.includes(":")) return undefined;
  try {
    return new URL(`http://[${n}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * The names a generated certificate should cover when the server listens on `host`. For a
 * wildcard address we cannot know which name students will type, so we add the machine's
 * name and every interface address (as of now: a later DHCP address needs `--tls-name`).
 */
export function serverNames(host: string, extra: string[] = []): string[] {
  const names = ["localhost", "127.0.0.1", "::1"];
  const h = host.trim().replace(/^\[(.*)\]$/, "$1");
  if (h === "" || h === "0.0.0.0" || h === "::") {
    try {
      names.push(Deno.hostname());
    } catch { /* no --allow-sys: the operator can add names explicitly */ }
    try {
      for (const i of Deno.networkInterfaces()) names.push(i.address.replace(/%.*$/, ""));
    } catch { /* as above */ }
  } else {
    names.push(h);
  }
  names.push(...extra);
  const seen = new Set<string>();
  return names.filter((n) => {
    const k = (ipLiteral(n) ?? n.trim()).toLowerCase();
    if (k === "" || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The server's own certificate, made on first start and then reused forever: regenerating it
 * would change the fingerprint every student pinned and make them all see CERT_CHANGED.
 */
export async function loadOrCreateServerTls(dataDir: string, names: string[]): Promise<ServerTls> {
  const certPath = `${dataDir}/tls/cert.pem`;
  const keyPath = `${dataDir}/tls/key.pem`;
  const [hasCert, hasKey] = await Promise.all([exists(certPath), exists(keyPath)]);
  if (hasCert && hasKey) {
    return { ...await loadTlsFiles(certPath, keyPath), created: false, certPath, keyPath };
  }
  if (hasCert !== hasKey) {
    const [missing, present] = hasCert ? [keyPath, certPath] : [certPath, keyPath];
    throw new Error(
      `TLS file ${missing} is missing but ${present} exists. Restore ${missing} from a backup ` +
        `(clients pinned this certificate), or remove ${present} to generate a new key ` +
        `(every client will then see a changed-key warning).`,
    );
  }
  const { cert, key } = await generateSelfSigned({ names });
  // Key first: if we die in between, the error above tells the operator what to do.
  await writePrivateFile(keyPath, key);
  const tmp = `${certPath}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, cert, { mode: 0o644 });
  // The certificate is public: 0644 whatever the umask, so other local tools can read it.
  if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
  await Deno.rename(tmp, certPath);
  return { cert, key, fingerprint: await fingerprintOfPem(cert), created: true, certPath, keyPath };
}

/** An operator's own certificate chain and key (`--tls-cert` / `--tls-key`). */
export async function loadTlsFiles(certPath: string, keyPath: string): Promise<TlsFiles> {
  const cert = await readPem(certPath, "certificate", /-----BEGIN CERTIFICATE-----/);
  const key = await readPem(keyPath, "private key", /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/);
  let fingerprint: string;
  try {
    fingerprint = await fingerprintOfPem(cert);
  } catch (e) {
    throw new Error(`TLS certificate ${certPath} is not a valid PEM certificate: ${msg(e)}`);
  }
  return { cert, key, fingerprint };
}

async function readPem(path: string, what: string, marker: RegExp): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read TLS ${what} ${path}: ${msg(e)}`);
  }
  if (!marker.test(text)) throw new Error(`TLS ${what} ${path} is not in PEM format`);
  return text;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
