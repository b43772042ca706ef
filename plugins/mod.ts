/**
 * The enabled plugins, in order. Adding a capability is one line here; removing a line
 * leaves a working server that answers that plugin's frames with UNKNOWN_TYPE.
 */
import type { Plugin } from "./types.ts";
import { dm } from "./dm/mod.ts";
import { presence } from "./presence/mod.ts";
import { encrypt } from "./encrypt/mod.ts";
import { offline } from "./offline/mod.ts";
import { groups } from "./groups/mod.ts";
import { sendfile } from "./sendfile/mod.ts";
import { staff } from "./staff/mod.ts";
import { hands } from "./hands/mod.ts";
import { polls } from "./polls/mod.ts";
import { queue } from "./queue/mod.ts";
import { questions } from "./questions/mod.ts";

export const PLUGINS: Plugin[] = [
  presence,
  dm,
  offline,
  groups,
  sendfile,
  encrypt,
  staff,
  hands,
  polls,
  queue,
  questions,
];
