/** Pins and a room's past through real processes: the instructor pins the syllabus; a student
 *  whose account is made later sees it, and the earlier posts, at their first login. */
import assert from "node:assert/strict";
import { spawnClassServer, spawnClient } from "../process.ts";

Deno.test("pins cli - /pin, /pins, /unpin as people type them; a late student sees the class room's past and its pins", async () => {
  const server = await spawnClassServer();
  try {
    const prof = spawnClient("Prof", server);
    await prof.waitFor(/^\* logged in as Prof/);
    await prof.type("/pin cs350");
    await prof.waitFor(/^! NO_SUCH_POST: #cs350 has no posts yet$/);
    await prof.type("@cs350 Syllabus: https://example.edu/cs350");
    await prof.waitFor(/^\* #cs350: 0 got it now$/);
    await prof.type("@cs350 Office hours: Tuesdays 2pm");
    await prof.waitFor(/^\* #cs350: 0 got it now$/);
    await prof.type("/pin cs350 x");
    await prof.waitFor(/^! USAGE: \/pin <room> \[post\]$/);
    await prof.type("/pin cs350");
    const pinned = await prof.waitFor(/^\* pinned in #cs350: \[post (\d+)\] Prof: Office hours/);
    const officeHours = pinned.match(/post (\d+)/)![1];
    const syllabus = String(Number(officeHours) - 1);
    await prof.type(`/pin cs350 ${syllabus}`);
    await prof.waitFor(/^\* pinned in #cs350: \[post \d+\] Prof: Syllabus/);

    const ann = spawnClient("Ann", server);
    await ann.waitFor(/^\* logged in as Ann/);
    await ann.waitFor(
      new RegExp(
        `\\[#cs350\\] Prof \\(staff\\): Syllabus: https://example.edu/cs350  \\(post ${syllabus}\\)$`,
      ),
    );
    await ann.waitFor(/\[#cs350\] Prof \(staff\): Office hours: Tuesdays 2pm {2}\(post \d+\)$/);
    await ann.waitFor(/^\* #cs350: the 2 posts above came before you joined$/);
    await ann.waitFor(/^\* pinned in #cs350 \(2\):$/);
    await ann.type("/pin cs350");
    await ann.waitFor(/^! NOT_ALLOWED: /);
    await prof.type(`/unpin cs350 ${officeHours}`);
    await prof.waitFor(new RegExp(`^\\* unpinned post ${officeHours} in #cs350$`));
    await ann.waitFor(new RegExp(`^\\* Prof \\(staff\\) unpinned post ${officeHours} in #cs350$`));
    await ann.type("/pins cs350");
    await ann.waitFor(/^\* pinned in #cs350 \(1\):$/);
    await ann.waitFor(
      /^\* {3}\[post \d+\] Prof: Syllabus: https:\/\/example.edu\/cs350 {2}\(pinned by Prof\)$/,
    );
    await ann.type("/help");
    for (const cmd of ["pin", "unpin", "pins"]) await ann.waitFor(new RegExp(`/${cmd}\\b`));
    await ann.type("/quit");
    assert.equal((await ann.end()).code, 0);
    await prof.type("/quit");
    assert.equal((await prof.end()).code, 0);
  } finally {
    await server.stop();
  }
});
