/**
 * Frames a plugin sends to everyone, or to someone on another node (ServerApi.broadcast,
 * ServerApi.sendTo): built by a node of this cluster and passed on here as they are.
 *
 *   core.broadcast {frame}      to every node: to every session logged in here
 *   core.tell {to, frame}       to the node `to` is on: to that session, if still here
 */
import type { RawFrame } from "../../protocol/spec.ts";
import type { Bus } from "./bus.ts";
import type { Hub } from "./hub.ts";

export function passFrames(bus: Bus, hub: Hub): void {
  bus.subscribe("core.broadcast", (m) => {
    const frame = fieldOf(m, "frame");
    if (isFrame(frame)) hub.broadcast(frame);
  });
  bus.subscribe("core.tell", (m) => {
    const to = fieldOf(m, "to");
    const frame = fieldOf(m, "frame");
    const s = typeof to === "string" ? hub.sessions.get(to) : undefined;
    if (s && isFrame(frame)) hub.send(s, frame);
  });
}

/** A frame as another node built it: an object with a type. */
function isFrame(f: unknown): f is RawFrame {
  return typeof fieldOf(f, "type") === "string";
}

/** A field of a bus message, which is JSON from another node: maybe not even an object. */
function fieldOf(m: unknown, key: string): unknown {
  return typeof m === "object" && m !== null ? (m as Record<string, unknown>)[key] : undefined;
}
