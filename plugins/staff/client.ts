/** The staff plugin's client half: /staff, and staff marked wherever names are shown. */
import { type ClientApi, UsageError } from "../types.ts";
import {
  StaffAdd,
  StaffChanged,
  staffChangedText,
  StaffList,
  StaffRemove,
  StaffRoster,
} from "./protocol.ts";

export function staffClient(api: ClientApi) {
  /** Lower-cased names of the staff, from the roster at login and the changes since. */
  const staff = new Set<string>();
  api.badge((name) => staff.has(name.toLowerCase()) ? "staff" : undefined);
  api.on(StaffRoster, (m) => {
    staff.clear();
    for (const n of m.staff) staff.add(n.toLowerCase());
  });
  api.on(StaffChanged, (m, ui) => {
    if (m.staff) staff.add(m.name.toLowerCase());
    else staff.delete(m.name.toLowerCase());
    // The name is not marked here: the line says what it is.
    ui.notice(staffChangedText(m));
  });

  api.command({
    name: "staff",
    usage: "/staff | /staff add <user> | /staff remove <user>",
    summary: "who is staff; server admins name staff, or stop naming them",
    async run(input, ctx) {
      const [verb, who, ...rest] = input.args;
      if (verb === undefined) {
        const { staff: list } = await ctx.request(StaffList, {});
        if (list.length === 0) return ctx.ui.notice("no staff yet");
        const shown = list.map((m) => m.name + (m.admin ? " (admin)" : ""));
        return ctx.ui.notice(`staff: ${shown.join(", ")}`);
      }
      if (who === undefined || rest.length > 0) throw new UsageError();
      const spec = { add: StaffAdd, remove: StaffRemove }[verb.toLowerCase()];
      if (!spec) throw new UsageError(`"${verb}" is not add or remove`);
      await ctx.request(spec, { name: who });
    },
  });
}
