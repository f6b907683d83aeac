// JWKS rotation over a live server: a second function server whose functions
// read their keys only from SUPABASE_JWKS_URL (no inline SUPABASE_JWKS),
// pointing at a small JWKS server this test runs on loopback. Also the
// issuer check, on a throw-away function whose policy sets `issuer`.
import * as jose from "npm:jose@6.2.17";
import * as assert from "./assert.ts";
import { jwksServer, type KeyPair, keyPair } from "./jwks_support.ts";
import { errorBody, root, startServer } from "./stack.ts";

const ISSUER = "https://edgeguard-rotation.test/auth/v1";

function token(k: KeyPair, claims: Record<string, unknown> = {}, kid = k.kid): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({
    iss: ISSUER,
    aud: "authenticated",
    sub: crypto.randomUUID(),
    role: "authenticated",
    is_anonymous: false,
    iat: now,
    exp: now + 600,
    ...claims,
  }).setProtectedHeader({ alg: "ES256", typ: "JWT", kid }).sign(k.privateKey);
}

/** A functions folder with the real `me` and an issuer-checking probe, both verify_jwt = false. */
async function functionsDir(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "edgeguard-rotation-" });
  const fns = `${dir}/functions`;
  await Deno.mkdir(`${fns}/issuer-probe`, { recursive: true });
  await Deno.mkdir(`${fns}/me`);
  await Deno.symlink(`${root}/supabase/functions/_shared`, `${fns}/_shared`);
  // the real `me` module (its own policy.json), re-exported
  const meUrl = new URL("file:///");
  meUrl.pathname = `${root}/supabase/functions/me/index.ts`;
  await Deno.writeTextFile(`${fns}/me/index.ts`, `export { default } from ${JSON.stringify(meUrl.href)};\n`);
  await Deno.writeTextFile(`${fns}/issuer-probe/policy.json`, JSON.stringify({
    auth: ["user"],
    audience: "authenticated",
    issuer: ISSUER,
    routes: [{ method: "GET", path: "/issuer-probe" }],
  }));
  await Deno.writeTextFile(`${fns}/issuer-probe/index.ts`, `import { guard } from "../_shared/guard.ts";
import policy from "./policy.json" with { type: "json" };
export default { fetch: guard(policy, (_req, { identity }) => Response.json({ sub: identity.sub })) };
`);
  await Deno.writeTextFile(`${dir}/config.toml`, "[functions.me]\nverify_jwt = false\n\n[functions.issuer-probe]\nverify_jwt = false\n");
  return { dir, env: { EDGEGUARD_FUNCTIONS_DIR: fns, EDGEGUARD_CONFIG: `${dir}/config.toml` } };
}

async function expect(res: Response, status: number, code?: string) {
  if (code) {
    const body = await errorBody(res);
    assert.equal(`${res.status} ${body.code}`, `${status} ${code}`, JSON.stringify(body));
  } else {
    const text = await res.text();
    assert.equal(res.status, status, text);
  }
}

Deno.test("JWKS rotation over a live server: old kid removed, new kid added", async (t) => {
  const jwks = jwksServer();
  const a = await keyPair(`rot-a-${crypto.randomUUID().slice(0, 8)}`);
  const b = await keyPair(`rot-b-${crypto.randomUUID().slice(0, 8)}`);
  jwks.state.keys = [a.jwk];
  const { dir, env } = await functionsDir();
  const server = await startServer({ ...env, SUPABASE_JWKS: "", SUPABASE_JWKS_URL: jwks.url, EDGEGUARD_QUIET: "1" });
  const me = (tok: string) => fetch(`${server.url}/functions/v1/me`, { headers: { authorization: `Bearer ${tok}` } });
  try {
    const a1 = await token(a);

    await t.step("key A published: an A token is accepted (keys fetched from the URL)", async () => {
      await expect(await me(a1), 200);
      assert.equal(jwks.state.fetches, 1, "one fetch on first use");
      await expect(await me(a1), 200);
      await expect(await me(await token(a)), 200);
      assert.equal(jwks.state.fetches, 1, "keys are cached (max-age 600)");
    });

    jwks.state.keys = [b.jwk]; // rotate: A removed, B added

    await t.step("rotated: a B token is accepted after the core's unknown-kid refetch", async () => {
      await expect(await me(await token(b)), 200);
      assert.equal(jwks.state.fetches, 2, "exactly one refetch for B's kid");
      await expect(await me(await token(b)), 200);
      assert.equal(jwks.state.fetches, 2);
    });

    await t.step("rotated: A tokens are refused, the one verified and cached before included", async () => {
      await expect(await me(a1), 401, "INVALID_JWT");
      await expect(await me(await token(a)), 401, "INVALID_JWT");
      assert.equal(jwks.state.fetches, 2, "A's kid is not refetched within the cooldown");
    });

    await t.step("unknown kids within the cooldown cause no fetch storm", async () => {
      for (let i = 0; i < 5; i++) {
        await expect(await me(await token(b, {}, `storm-${i}-${crypto.randomUUID()}`)), 401, "INVALID_JWT");
      }
      assert.equal(jwks.state.fetches, 2, "no refetch within the cooldown window");
    });

    await t.step("issuer configured: right iss 200, other iss 401, missing iss 401, wrong aud 401", async () => {
      const probe = (tok: string) => fetch(`${server.url}/functions/v1/issuer-probe`, { headers: { authorization: `Bearer ${tok}` } });
      await expect(await probe(await token(b)), 200);
      await expect(await probe(await token(b, { iss: "https://other-project.supabase.co/auth/v1" })), 401, "INVALID_JWT");
      await expect(await probe(await token(b, { iss: undefined })), 401, "INVALID_JWT");
      await expect(await probe(await token(b, { aud: "service" })), 401, "INVALID_JWT");
    });
  } finally {
    await server.stop();
    await jwks.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every JWKS algorithm over HTTP: ES256, RS256 and EdDSA keys accepted by kid; confusions refused", async (t) => {
  const jwks = jwksServer();
  const es = await keyPair(`es-${crypto.randomUUID().slice(0, 8)}`);
  const rsa = await jose.generateKeyPair("RS256", { extractable: true });
  const ed = await jose.generateKeyPair("EdDSA", { extractable: true });
  const rsKid = `rs-${crypto.randomUUID().slice(0, 8)}`;
  const edKid = `ed-${crypto.randomUUID().slice(0, 8)}`;
  const rsJwk = { ...await jose.exportJWK(rsa.publicKey), kid: rsKid, alg: "RS256", use: "sig" };
  const edJwk = { ...await jose.exportJWK(ed.publicKey), kid: edKid, alg: "EdDSA", use: "sig" };
  jwks.state.keys = [es.jwk, rsJwk, edJwk];
  const { dir, env } = await functionsDir();
  const server = await startServer({ ...env, SUPABASE_JWKS: "", SUPABASE_JWKS_URL: jwks.url, EDGEGUARD_QUIET: "1" });
  const me = (tok: string) => fetch(`${server.url}/functions/v1/me`, { headers: { authorization: `Bearer ${tok}` } });
  const sign = (alg: string, kid: string, key: CryptoKey | Uint8Array) => {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ aud: "authenticated", sub: crypto.randomUUID(), role: "authenticated", iat: now, exp: now + 600 })
      .setProtectedHeader({ alg, typ: "JWT", kid }).sign(key);
  };
  try {
    await t.step("ES256, RS256, EdDSA tokens with their kids -> 200", async () => {
      await expect(await me(await token(es)), 200);
      await expect(await me(await sign("RS256", rsKid, rsa.privateKey)), 200);
      await expect(await me(await sign("EdDSA", edKid, ed.privateKey)), 200);
    });
    await t.step("RSA key: PS256 header, or HS256 keyed with its public JWK -> 401 INVALID_JWT", async () => {
      const ps = await jose.generateKeyPair("PS256", { extractable: true });
      await expect(await me(await sign("PS256", rsKid, ps.privateKey)), 401, "INVALID_JWT");
      await expect(await me(await sign("HS256", rsKid, new TextEncoder().encode(JSON.stringify(rsJwk)))), 401, "INVALID_JWT");
    });
    await t.step("a token signed by the Ed25519 key but naming the RSA kid -> 401 INVALID_JWT", async () => {
      await expect(await me(await sign("EdDSA", rsKid, ed.privateKey)), 401, "INVALID_JWT");
    });
  } finally {
    await server.stop();
    await jwks.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
