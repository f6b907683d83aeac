// Shared by the audit e2e tests: the operator's verifier, run as operators run it.
import * as assert from "./assert.ts";
import { root } from "./stack.ts";

/** Runs `edgeguard audit verify --json` on `exportJson`: exit code and report. */
export async function auditVerify(exportJson: string, publicKey: string, extra: string[] = []) {
  const child = new Deno.Command("cargo", {
    args: ["run", "-q", "-p", "edgeguard-cli", "--", "audit", "verify", "--public-key", publicKey, "--json", ...extra],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(exportJson));
  await writer.close();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(stdout.trim().startsWith("{"), `verify printed JSON (stderr: ${stderr})`);
  return { code: out.code, report: JSON.parse(stdout) };
}

