/** A room as the groups plugin holds it in memory (the store, store.ts, keeps it and the
 *  per-account limit, limits.ts, counts it). Types only, in their own file so that limits.ts
 *  and store.ts, which use each other's, need not import each other. */

export interface Member {
  /** As registered. */
  name: string;
  owner: boolean;
}

/** An invitation to a private room, or a kick (which keeps the account out until invited). */
export interface Access {
  state: "invited" | "kicked";
  by: string;
}

export interface Room {
  name: string;
  /** The account that created the room (groups_rooms.created_by, as registered): an owner for
   *  good, whom only a server admin may kick, and who may rejoin without an invitation.
   *  Undefined for a room the server made (the class room), whose created_by says how
   *  (`--class-room`), which no account name can be. */
  founder: string | undefined;
  private: boolean;
  /** Only owners and server admins may post. */
  announce: boolean;
  /** Lower-cased account -> member. */
  members: Map<string, Member>;
  /** Lower-cased account -> invited or kicked. */
  access: Map<string, Access>;
}
