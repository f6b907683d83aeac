// Writes a fixture (fixture.ts) for first_steps.ts and setup_steps.ts:
// 20 ES256 user tokens valid 10 hours.
//   deno run -A scripts/bench/cold/make_fixture.ts /tmp/fixture.json
import { makeFixture } from "./fixture.ts";

const [out] = Deno.args;
if (!out) throw new Error("usage: make_fixture.ts <out.json>");
await Deno.writeTextFile(out, JSON.stringify(await makeFixture(20, 36_000)));
