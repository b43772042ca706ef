/** What the room handler files (server_class.ts, server_lifecycle.ts, server_posts.ts,
 *  server_queries.ts) share beyond groups.ts's `Groups`: made by server.ts, passed to them. In
 *  its own file so that they need not import server.ts, which imports them. */
import type { Session } from "../types.ts";
import type { Room } from "./store.ts";
import type { Groups } from "./groups.ts";

export interface RoomsCtx extends Groups {
  /** The sessions of a room's members online, but `except`. */
  online(room: Room, except?: string): Session[];
  /** Gives each of `names`, just joined `r` for the first time, the room's past (pins and
   *  recent posts); errors are logged. */
  welcomed(r: Room, names: string[]): void;
  /** The class room (`serve --class-room`), once start-up has made it; set by
   *  server_class.ts. */
  classRoom: Room | undefined;
}
