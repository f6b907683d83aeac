import { isProduction } from "./app_env.ts";
import { assert } from "../test_assert.ts";

Deno.test("production: the core's rule, normalised, and hosted without APP_ENV", () => {
  assert(isProduction({ APP_ENV: "production" }), "production");
  assert(isProduction({ APP_ENV: " Production " }), "trimmed, any case");
  assert(!isProduction({ APP_ENV: "staging" }), "staging");
  assert(!isProduction({}), "local default");
  assert(isProduction({ SB_REGION: "eu-central-1" }), "hosted marker");
  assert(isProduction({ DENO_DEPLOYMENT_ID: "ref_1" }), "hosted marker");
  assert(!isProduction({ SB_EXECUTION_ID: "x" }), "edge-runtime sets this locally too");
  assert(!isProduction({ SB_REGION: "x", APP_ENV: "development" }), "explicit APP_ENV wins");
  assert(isProduction({ APP_ENV: "prod" }), "an invalid value reads as production (fail safe)");
});
