/** The messages of a live transfer between nodes (remote.ts), and their check: another node
 *  is trusted, but a message of another version must be refused, not half-read. */
import type { Flow, Flows } from "./flow.ts";

export interface Offer {
  name: string;
  size: number;
  sealed?: string;
}

/** What each half of a relay between nodes needs of remote.ts's RemoteRelays. */
export interface RelayHost {
  readonly flows: Flows;
  publish(node: string, topic: "in" | "out", msg: BusMsg): void;
  /** Registers a half under its key (its bus id; `${node} ${id}` on the receiver's node). */
  track(side: "in" | "out", key: string, half: Flow): void;
  /** Forgets it, if the key is still its own. */
  untrack(side: "in" | "out", key: string, half: Flow): void;
}

export type BusMsg =
  | {
    k: "offer";
    id: string;
    from: string;
    to: string;
    name: string;
    size: number;
    sealed?: string;
  }
  | { k: "chunk"; id: string; n: number; data: Uint8Array }
  | { k: "end"; id: string; sha256: string; check?: string }
  | { k: "cancel"; id: string; why: string }
  | { k: "answer"; id: string; live: boolean; busy: boolean }
  | { k: "credit"; id: string; n: number }
  | { k: "verdict"; id: string; ok: boolean };

const str = (v: unknown): v is string => typeof v === "string";
const optStr = (v: unknown) => v === undefined || str(v);
const int = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const bool = (v: unknown): v is boolean => typeof v === "boolean";

/** The fields each kind must have, and their checks. */
const SHAPES: Record<BusMsg["k"], Record<string, (v: unknown) => boolean>> = {
  offer: { from: str, to: str, name: str, size: int, sealed: optStr },
  chunk: { n: int, data: (v) => v instanceof Uint8Array },
  end: { sha256: str, check: optStr },
  cancel: { why: str },
  answer: { live: bool, busy: bool },
  credit: { n: int },
  verdict: { ok: bool },
};

export function readBusMsg(raw: unknown): BusMsg | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const shape = Object.hasOwn(SHAPES, String(m.k)) ? SHAPES[m.k as BusMsg["k"]] : undefined;
  if (!shape || !str(m.id)) return undefined;
  for (const [field, ok] of Object.entries(shape)) if (!ok(m[field])) return undefined;
  return m as BusMsg;
}
