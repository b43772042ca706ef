/**
 * staff: who teaches the class. Staff are the server admins and the accounts an admin names
 * (`classchat admin add-staff NAME` on the server's machine, `/staff add NAME` from a client);
 * the class tools (hands, polls, queue, questions) give them their powers. Wire syntax:
 *
 *   staff.list {}             -> ack {staff: [{name, admin}]}    anyone
 *   staff.add {name}          -> ack {name}     ADMIN_ONLY | NO_SUCH_USER | ALREADY_STAFF
 *   staff.remove {name}       -> ack {name}     ADMIN_ONLY | NOT_STAFF | ALWAYS_STAFF
 *   staff.roster {staff: [name]}          pushed at login (JSON sessions): who is staff now,
 *                                         so a client can mark them wherever it shows names
 *   staff.changed {name, staff, by?}      pushed to everyone online when someone becomes
 *                                         staff or stops being it (`by`: the admin who did it)
 */
import { ChatError } from "../../protocol/errors.ts";
import { field, message, type RawFrame } from "../../protocol/spec.ts";

export interface Member {
  name: string;
  /** A server admin (always staff), not only named staff. */
  admin: boolean;
}

function members(f: RawFrame): RawFrame[] {
  const list = f.staff;
  if (!Array.isArray(list) || !list.every((m) => typeof m === "object" && m !== null)) {
    throw new ChatError("BAD_FRAME", 'field "staff" must be an array of objects');
  }
  return list as RawFrame[];
}

const name = (f: RawFrame) => ({ name: field.text(f, "name", { min: 1 }) });

export const StaffList = message("staff.list", () => ({}), {
  ack: (f) => ({
    staff: members(f).map((m) => ({
      name: field.text(m, "name", { min: 1 }),
      admin: field.boolean(m, "admin"),
    })),
  }),
});

export const StaffAdd = message("staff.add", name, { ack: name });

export const StaffRemove = message("staff.remove", name, { ack: name });

export const StaffRoster = message("staff.roster", (f) => ({
  staff: field.textArray(f, "staff"),
}));

export const StaffChanged = message("staff.changed", (f) => ({
  name: field.text(f, "name", { min: 1 }),
  staff: field.boolean(f, "staff"),
  by: field.optional(f, "by", () => field.text(f, "by", { min: 1 })),
}));

/** `Tom is now staff (named by Prof)`. */
export function staffChangedText(m: { name: string; staff: boolean; by?: string }): string {
  return `${m.name} ${m.staff ? "is now staff" : "is no longer staff"}` +
    (m.by ? ` (${m.staff ? "named" : "removed"} by ${m.by})` : "");
}
