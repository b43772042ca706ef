/** The client's own commands, which belong to no plugin: /help and /quit. */
import type { CommandDef } from "../../plugins/types.ts";
import type { ClientRegistry } from "./registry.ts";

/** What these commands need of the client (ClientApp is one): an interface rather than the
 *  class, so this file does not import client_app.ts, which imports it. */
export interface CoreCommandHost {
  readonly registry: Pick<ClientRegistry, "byName" | "lines" | "commands">;
  quitAsked(): Promise<void> | void;
}

export function coreCommands(app: CoreCommandHost): CommandDef[] {
  return [
    {
      name: "help",
      aliases: ["h", "?"],
      usage: "/help [command]",
      summary: "list commands, or explain one",
      run(input, ctx) {
        const { ui } = ctx;
        const want = input.args[0]?.replace(/^\//, "").toLowerCase();
        if (want) {
          const c = app.registry.byName.get(want);
          if (!c) return ui.error("UNKNOWN_COMMAND", `/${want} is not a command`);
          const aliases = c.aliases?.length
            ? ` (also ${c.aliases.map((a) => "/" + a).join(", ")})`
            : "";
          return ui.notice(`${c.usage}  ${c.summary}${aliases}`);
        }
        ui.notice("to write, type:");
        for (const l of app.registry.lines) ui.notice(`  ${l.usage.padEnd(24)} ${l.summary}`);
        ui.notice("commands (/help <command> explains one):");
        for (const c of app.registry.commands) {
          const aliases = c.aliases?.length
            ? ` (also ${c.aliases.map((a) => "/" + a).join(", ")})`
            : "";
          ui.notice(`  ${c.usage.padEnd(24)} ${c.summary}${aliases}`);
        }
      },
    },
    {
      name: "quit",
      aliases: ["exit", "q"],
      usage: "/quit",
      summary: "leave the chat; server:exit works too",
      run: () => app.quitAsked(),
    },
  ];
}
