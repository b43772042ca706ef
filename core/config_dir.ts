/**
 * Where the client keeps what it must remember between runs: pinned server certificates
 * (known_hosts), its end-to-end identity keys and pinned peer keys. Private files in it are
 * written with mode 0600.
 *
 * CLASSCHAT_CONFIG_DIR overrides the location (tests, several identities on one machine);
 * otherwise $XDG_CONFIG_HOME/classchat, %APPDATA%\classchat on Windows, ~/.config/classchat.
 */
export function configDir(): string {
  if (chosen) return chosen;
  const env = (k: string) => Deno.env.get(k) || undefined;
  const explicit = env("CLASSCHAT_CONFIG_DIR");
  if (explicit) return explicit;
  const xdg = env("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/classchat`;
  if (Deno.build.os === "windows" && env("APPDATA")) return `${env("APPDATA")}\\classchat`;
  const home = homeDir();
  if (!home) throw new Error("no home directory: set CLASSCHAT_CONFIG_DIR");
  return `${home}/.config/classchat`;
}

/** A directory set by the program itself, before any of the above. For clients run inside
 *  another program (the tests run many in one process): the environment is shared by every
 *  worker of a process, a module's variable is not. */
let chosen: string | undefined;

export function setConfigDir(dir: string | undefined): void {
  chosen = dir;
}

/** The user's home directory ($HOME, or %USERPROFILE% on Windows), if there is one. */
export function homeDir(): string | undefined {
  return Deno.env.get("HOME") || Deno.env.get("USERPROFILE") || undefined;
}

/** Writes a private file atomically (temporary file, then rename) with mode 0600. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.rename(tmp, path);
}
