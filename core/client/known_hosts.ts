/**
 * The client's pinned server certificates, like ssh's ~/.ssh/known_hosts.
 *
 * One server per line: `<host:port> <SHA-256 fingerprint> <base64 of the certificate DER>`.
 * The whole certificate is kept, not just its fingerprint, because Deno.connectTls can only
 * pin by passing the certificate itself as a trust anchor (caCerts).
 *
 * Lines starting with `#`, blank lines and lines we cannot parse (or whose fingerprint does not
 * match the certificate) are ignored for lookups but kept verbatim when the file is rewritten,
 * so a hand edit with a typo never silently loses anything.
 */
import { configDir, writePrivateFile } from "../config_dir.ts";
import { derToPem, fingerprintOfDer, normalizeFingerprint, pemToDer } from "../tls/cert.ts";

export interface KnownHost {
  fingerprint: string;
  certPem: string;
}

const HEADER = [
  "# ClassChat known hosts: server certificates this client has trusted (like ssh known_hosts).",
  "# One per line: <host:port> <SHA-256 fingerprint> <certificate DER, base64>.",
  "# If a server's key really changed, delete its line here and connect again.",
];

export function knownHostsPath(): string {
  return `${configDir()}/known_hosts`;
}

/** `host:port` with the host lower-cased and IPv6 in brackets: `[::1]:5757`. */
export function hostKey(hostname: string, port: number): string {
  const h = hostname.trim().replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h.includes(":") ? `[${h}]:${port}` : `${h}:${port}`;
}

export class KnownHosts {
  #path: string;
  #lines: string[];
  #entries: Map<string, KnownHost>;

  private constructor(path: string, lines: string[], entries: Map<string, KnownHost>) {
    this.#path = path;
    this.#lines = lines;
    this.#entries = entries;
  }

  /** Reads the file; a missing file is an empty list (the file is created on the first set). */
  static async load(path: string): Promise<KnownHosts> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return new KnownHosts(path, [...HEADER], new Map());
      throw e;
    }
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    const entries = new Map<string, KnownHost>();
    for (const line of lines) {
      const parsed = await parseLine(line);
      // The first line for a host wins, as in ssh.
      if (parsed && !entries.has(parsed.key)) entries.set(parsed.key, parsed.entry);
    }
    return new KnownHosts(path, lines, entries);
  }

  get(key: string): KnownHost | undefined {
    return this.#entries.get(key);
  }

  /** Pins `certPem` for `key`, replacing any earlier entry, and rewrites the file (mode 0600). */
  async set(key: string, fingerprint: string, certPem: string): Promise<void> {
    if (/\s/.test(key) || key === "") {
      throw new Error(`invalid known_hosts key ${JSON.stringify(key)}`);
    }
    const fp = normalizeFingerprint(fingerprint);
    const der = pemToDer(certPem);
    if (!fp || fp !== await fingerprintOfDer(der)) {
      throw new Error(`fingerprint ${fingerprint} does not match the certificate for ${key}`);
    }
    const line = `${key} ${fp} ${der.toBase64()}`;
    const keep: string[] = [];
    let at = -1;
    for (const l of this.#lines) {
      if (lineKey(l) !== key) keep.push(l);
      else if (at < 0) at = keep.push(line) - 1;
    }
    if (at < 0) keep.push(line);
    await writePrivateFile(this.#path, keep.join("\n") + "\n");
    this.#lines = keep;
    this.#entries.set(key, { fingerprint: fp, certPem: derToPem(der) });
  }
}

function lineKey(line: string): string | undefined {
  const t = line.trim();
  return t === "" || t.startsWith("#") ? undefined : t.split(/\s+/)[0];
}

async function parseLine(line: string): Promise<{ key: string; entry: KnownHost } | undefined> {
  const key = lineKey(line);
  if (key === undefined) return undefined;
  const fields = line.trim().split(/\s+/);
  if (fields.length !== 3) return undefined;
  const fp = normalizeFingerprint(fields[1]);
  let der: Uint8Array;
  try {
    der = Uint8Array.fromBase64(fields[2]);
  } catch {
    return undefined;
  }
  // A fingerprint that does not match its certificate would make CERT_CHANGED reports lie.
  if (!fp || fp !== await fingerprintOfDer(der)) return undefined;
  return { key, entry: { fingerprint: fp, certPem: derToPem(der) } };
}
