import config from "../deno.json" with { type: "json" };

/** The release version, kept in one place: deno.json. */
export const VERSION: string = config.version;
