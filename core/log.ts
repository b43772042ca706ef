/** A tiny leveled logger; each plugin gets one prefixed with its name. Logs go to stderr. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(prefix: string): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

export function createLogger(level: LogLevel = "info", prefix = ""): Logger {
  const emit = (lvl: LogLevel, msg: string) => {
    if (RANK[lvl] < RANK[level]) return;
    const tag = prefix ? `[${prefix}] ` : "";
    console.error(`${new Date().toISOString()} ${lvl.toUpperCase()} ${tag}${msg}`);
  };
  return {
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    child: (p) => createLogger(level, prefix ? `${prefix}/${p}` : p),
  };
}
