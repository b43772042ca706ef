/** What the groups server's handler files (server.ts and the server_*.ts it calls) share:
 *  made by server.ts, passed to the others. In its own file so that they need not import
 *  server.ts, which imports them. */
import type { MessageSpec } from "../../protocol/spec.ts";
import type { ServerApi } from "../types.ts";
import type { Room, Rooms } from "./store.ts";

export interface Groups {
  api: ServerApi;
  rooms: Rooms;
  /** Sends a frame to a room's members online, but `except`. */
  push<T>(room: Room, spec: MessageSpec<T>, body: T, except?: string): void;
  /** May this account moderate the room (an owner of it, or a server admin)? */
  moderates(room: Room, name: string): boolean;
  isMember(room: Room, name: string): boolean;
  /** TOO_MANY_ROOMS unless the account may join `room` (or, undefined, a new one); see
   *  limits.ts. Call it with no await between it and the join. */
  roomLimit(room: Room | undefined, name: string, invitee?: boolean): void;
}
