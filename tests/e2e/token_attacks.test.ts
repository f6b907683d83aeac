// The token-attack catalogue: every case is sent to `me` over HTTP (the
// function verifies in wasm; verify_jwt = false, so no gateway in front) and
// must answer exactly the status and SPEC code of its row. Tokens are made
// with jose (npm:jose@6.2.17) or by hand (header and payload bytes signed with
// WebCrypto), so malformed shapes jose refuses to produce are covered too.
// The table is printed at the end of the run.
import * as jose from "npm:jose@6.2.17";
import * as assert from "./assert.ts";
import { devKeys, errorBody, foreignKey, functionsUrl, mintToken } from "./stack.ts";

const enc = new TextEncoder();

/** base64url without padding. */
function b64u(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? enc.encode(bytes) : bytes;
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Standard claims of a fresh, valid access token (as mintToken makes them). */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: "edgeguard-attack-catalogue",
    aud: "authenticated",
    sub: crypto.randomUUID(),
    role: "authenticated",
    email: "attacker@example.com",
    aal: "aal1",
    is_anonymous: false,
    iat: now,
    exp: now + 3600,
    ...extra,
  };
}

async function devPrivateKey(): Promise<CryptoKey> {
  const { private_jwk } = await devKeys();
  return await crypto.subtle.importKey("jwk", { ...private_jwk, key_ops: ["sign"] } as JsonWebKey,
    { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
}

async function devKid(): Promise<string> {
  return (await devKeys()).private_jwk.kid as string;
}

/** ES256 (P1363 r||s, as JWS wants) over `${h}.${p}` with `key` (the dev key by default). */
async function es256(signingInput: string, key?: CryptoKey): Promise<string> {
  const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key ?? await devPrivateKey(), enc.encode(signingInput));
  return b64u(new Uint8Array(sig));
}

async function hs256(signingInput: string, secret: Uint8Array<ArrayBuffer>): Promise<string> {
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return b64u(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(signingInput))));
}

/** A token whose header and payload are the given raw JSON texts, ES256-signed by the dev key. */
async function handSigned(headerJson: string, payloadJson: string, key?: CryptoKey): Promise<string> {
  const input = `${b64u(headerJson)}.${b64u(payloadJson)}`;
  return `${input}.${await es256(input, key)}`;
}

async function devHeader(extra: Record<string, unknown> = {}): Promise<string> {
  return JSON.stringify({ alg: "ES256", typ: "JWT", kid: await devKid(), ...extra });
}

/** Flips the unused low bits of the last base64url character (same bytes for a lenient decoder). */
function nonCanonicalTail(segment: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(segment.at(-1)!);
  // a 64-byte signature is 86 characters: the last one carries 2 data bits and 4 unused ones
  return segment.slice(0, -1) + alphabet[(last & 0b110000) | 0b0101];
}

type Make = () => Promise<HeadersInit>;
interface Case {
  name: string;
  make: Make;
  status: number;
  code: string | null; // null: a 200 control
  /** The core's precise reason (the `hint` outside production): the refusal is for this attack, not another flaw. */
  reason?: string;
}

const bearer = (t: string): HeadersInit => ({ authorization: `Bearer ${t}` });

const cases: Case[] = [
  // controls: the catalogue's tokens are shaped right, so each refusal is the attack's
  { name: "control: valid ES256 (dev key, kid)", status: 200, code: null, make: async () => bearer(await handSigned(await devHeader(), JSON.stringify(await claims()))) },
  { name: "control: valid HS256 (JWT_SECRET)", status: 200, code: null, make: async () => bearer(await mintToken({}, { alg: "HS256" })) },
  { name: "lowercase `bearer` scheme (RFC 7235: case-insensitive)", status: 200, code: null, make: async () => ({ authorization: `bearer ${await mintToken()}` }) },

  // credentials missing or malformed
  { name: "no Authorization header", status: 401, code: "MISSING_CREDENTIALS", reason: "a Bearer access token is required", make: () => Promise.resolve({}) },
  { name: "`Bearer` with no token", status: 401, code: "INVALID_JWT", reason: "authorization header is not a Bearer token", make: () => Promise.resolve({ authorization: "Bearer" }) },
  { name: "`Bearer ` followed by spaces only", status: 401, code: "INVALID_JWT", reason: "authorization header is not a Bearer token", make: () => Promise.resolve({ authorization: "Bearer    " }) },
  { name: "Basic scheme instead of Bearer", status: 401, code: "INVALID_JWT", reason: "authorization header is not a Bearer token", make: () => Promise.resolve({ authorization: "Basic dXNlcjpwYXNz" }) },
  { name: "two Authorization headers (joined `a, b` by the HTTP stack)", status: 401, code: "INVALID_JWT", reason: "token must have exactly three segments", make: async () => {
    const h = new Headers();
    h.append("authorization", `Bearer ${await mintToken()}`);
    h.append("authorization", `Bearer ${await mintToken()}`);
    return h;
  } },
  { name: "publishable apikey only (me accepts users only)", status: 401, code: "MISSING_CREDENTIALS", reason: "a Bearer access token is required", make: async () => ({ apikey: (await devKeys()).env.SUPABASE_PUBLISHABLE_KEY }) },
  { name: "valid apikey + bad JWT (no downgrade)", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () => ({
    apikey: (await devKeys()).env.SUPABASE_PUBLISHABLE_KEY,
    authorization: `Bearer ${await mintToken({}, { signWith: await foreignKey() })}`,
  }) },
  { name: "valid secret apikey + expired JWT (no downgrade)", status: 401, code: "INVALID_JWT", reason: "token expired", make: async () => ({
    apikey: (await devKeys()).env.SUPABASE_SECRET_KEY,
    authorization: `Bearer ${await mintToken({}, { expiresIn: -3600 })}`,
  }) },

  // algorithm attacks
  { name: "alg none, empty signature", status: 401, code: "INVALID_JWT", reason: "alg \"none\" is refused", make: async () =>
    bearer(`${b64u(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64u(JSON.stringify(await claims()))}.`) },
  { name: "alg None (case variant), dev kid", status: 401, code: "INVALID_JWT", reason: "alg \"none\" is refused", make: async () =>
    bearer(`${b64u(await devHeader({ alg: "None" }))}.${b64u(JSON.stringify(await claims()))}.`) },
  { name: "alg none with a valid ES256 signature attached", status: 401, code: "INVALID_JWT", reason: "alg \"none\" is refused", make: async () =>
    bearer(await handSigned(await devHeader({ alg: "none" }), JSON.stringify(await claims()))) },
  { name: "HS256 signed with the JWKS public key JSON (alg confusion)", status: 401, code: "INVALID_JWT", reason: "alg HS256 does not match the key's algorithm ES256", make: async () => {
    const { jwks } = await devKeys();
    const input = `${b64u(await devHeader({ alg: "HS256" }))}.${b64u(JSON.stringify(await claims()))}`;
    return bearer(`${input}.${await hs256(input, enc.encode(JSON.stringify(jwks.keys[0])))}`);
  } },
  { name: "HS256 signed with the public key's raw point (alg confusion)", status: 401, code: "INVALID_JWT", reason: "alg HS256 does not match the key's algorithm ES256", make: async () => {
    const { jwks } = await devKeys();
    const pub = await crypto.subtle.importKey("jwk", jwks.keys[0] as JsonWebKey, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pub));
    const input = `${b64u(await devHeader({ alg: "HS256" }))}.${b64u(JSON.stringify(await claims()))}`;
    return bearer(`${input}.${await hs256(input, raw)}`);
  } },
  { name: "RS256 header + dev EC kid, signed by an RSA key (alg/kty mismatch)", status: 401, code: "INVALID_JWT", reason: "alg RS256 does not match the key's algorithm ES256", make: async () => {
    const { privateKey } = await jose.generateKeyPair("RS256");
    return bearer(await new jose.SignJWT(await claims()).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: await devKid() }).sign(privateKey));
  } },
  { name: "EdDSA header + dev EC kid, signed by an Ed25519 key (alg/kty mismatch)", status: 401, code: "INVALID_JWT", reason: "alg EdDSA does not match the key's algorithm ES256", make: async () => {
    const { privateKey } = await jose.generateKeyPair("EdDSA");
    return bearer(await new jose.SignJWT(await claims()).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: await devKid() }).sign(privateKey));
  } },
  { name: "ES384 header + dev kid (alg the key does not have)", status: 401, code: "INVALID_JWT", reason: "alg \"ES384\" is not accepted", make: async () =>
    bearer(await handSigned(await devHeader({ alg: "ES384" }), JSON.stringify(await claims()))) },

  // key selection and header injection
  { name: "unknown kid (signed by a foreign key)", status: 401, code: "INVALID_JWT", reason: "unknown kid", make: async () =>
    bearer(await mintToken({}, { signWith: await foreignKey(), kid: `attacker-${crypto.randomUUID()}` })) },
  { name: "another project's token: other key, same kid", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () =>
    bearer(await mintToken({}, { signWith: await foreignKey() })) },
  { name: "jku header pointing at an attacker JWKS (dev-signed)", status: 401, code: "INVALID_JWT", reason: "header \"jku\" is refused (key injection)", make: async () =>
    bearer(await handSigned(await devHeader({ jku: "https://attacker.example/jwks.json" }), JSON.stringify(await claims()))) },
  { name: "x5u header (dev-signed)", status: 401, code: "INVALID_JWT", reason: "header \"x5u\" is refused (key injection)", make: async () =>
    bearer(await handSigned(await devHeader({ x5u: "https://attacker.example/cert.pem" }), JSON.stringify(await claims()))) },
  { name: "embedded jwk header: attacker key, signed with it", status: 401, code: "INVALID_JWT", reason: "header \"jwk\" is refused (key injection)", make: async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    return bearer(await new jose.SignJWT(await claims()).setProtectedHeader({ alg: "ES256", typ: "JWT", jwk }).sign(privateKey));
  } },
  { name: "x5c header (dev-signed)", status: 401, code: "INVALID_JWT", reason: "header \"x5c\" is refused (key injection)", make: async () =>
    bearer(await handSigned(await devHeader({ x5c: ["MIIBszCCAVmgAwIBAgIUZ2V0LWEtcmVhbC1jZXJ0"] }), JSON.stringify(await claims()))) },
  { name: "unknown crit extension (dev-signed)", status: 401, code: "INVALID_JWT", reason: "header \"crit\" is not supported", make: async () =>
    bearer(await handSigned(await devHeader({ crit: ["x-edgeguard-test"], "x-edgeguard-test": true }), JSON.stringify(await claims()))) },

  // encoding and structure
  { name: "duplicate key in header (alg twice)", status: 401, code: "INVALID_JWT", reason: "header: duplicate JSON key", make: async () =>
    bearer(await handSigned(`{"alg":"ES256","typ":"JWT","kid":${JSON.stringify(await devKid())},"alg":"ES256"}`, JSON.stringify(await claims()))) },
  { name: "duplicate key in payload (sub twice)", status: 401, code: "INVALID_JWT", reason: "payload: duplicate JSON key", make: async () => {
    const c = JSON.stringify(await claims());
    return bearer(await handSigned(await devHeader(), `${c.slice(0, -1)},"sub":"${crypto.randomUUID()}"}`));
  } },
  { name: "padded base64url header (`=`), correctly signed", status: 401, code: "INVALID_JWT", reason: "header is not canonical unpadded base64url (BadCharacter)", make: async () => {
    let header = await devHeader({ pad: "" });
    // grow the header until its base64url needs padding
    while (enc.encode(header).length % 3 === 0) header = header.replace(`"pad":"`, `"pad":"x`);
    const h = btoa(header).replaceAll("+", "-").replaceAll("/", "_");
    assert.ok(h.endsWith("="));
    const input = `${h}.${b64u(JSON.stringify(await claims()))}`;
    return bearer(`${input}.${await es256(input)}`);
  } },
  { name: "non-canonical base64url signature (unused bits set)", status: 401, code: "INVALID_JWT", reason: "signature is not canonical unpadded base64url (NonCanonical)", make: async () => {
    const t = await handSigned(await devHeader(), JSON.stringify(await claims()));
    const [h, p, s] = t.split(".");
    return bearer(`${h}.${p}.${nonCanonicalTail(s)}`);
  } },
  { name: "standard base64 alphabet (`+`/`/`) in the payload", status: 401, code: "INVALID_JWT", reason: "payload is not canonical unpadded base64url (BadCharacter)", make: async () => {
    // "???": one of the three lands on the last byte of a base64 group, which encodes as `_` (63)
    const p = b64u(JSON.stringify(await claims({ note: "???" })));
    assert.ok(p.includes("_"));
    const input = `${b64u(await devHeader())}.${p}`;
    const sig = await es256(input);
    return bearer(`${b64u(await devHeader())}.${p.replaceAll("-", "+").replaceAll("_", "/")}.${sig}`);
  } },
  { name: "bad base64 in the signature (`*`)", status: 401, code: "INVALID_JWT", reason: "signature is not canonical unpadded base64url (BadCharacter)", make: async () => {
    const [h, p, s] = (await mintToken()).split(".");
    return bearer(`${h}.${p}.${s.slice(0, 10)}*${s.slice(11)}`);
  } },
  { name: "2 segments", status: 401, code: "INVALID_JWT", reason: "token must have exactly three segments", make: async () => bearer((await mintToken()).split(".").slice(0, 2).join(".")) },
  { name: "4 segments", status: 401, code: "INVALID_JWT", reason: "token must have exactly three segments", make: async () => bearer(`${await mintToken()}.${b64u("x")}`) },
  { name: "5 segments (JWE-shaped)", status: 401, code: "INVALID_JWT", reason: "token must have exactly three segments", make: () => Promise.resolve(bearer(`${b64u('{"alg":"dir","enc":"A256GCM"}')}..${b64u("iv")}.${b64u("ct")}.${b64u("tag")}`)) },
  { name: "oversized token (> 8 KiB, validly signed)", status: 401, code: "INVALID_JWT", reason: "token larger than 8 KiB", make: async () => {
    const t = await handSigned(await devHeader(), JSON.stringify(await claims({ pad: "x".repeat(8 * 1024) })));
    assert.ok(t.length > 8192);
    return bearer(t);
  } },
  { name: "payload JSON is an array, validly signed", status: 401, code: "INVALID_JWT", reason: "payload is not a JSON object", make: async () => bearer(await handSigned(await devHeader(), "[1,2,3]")) },
  { name: "payload JSON is a string, validly signed", status: 401, code: "INVALID_JWT", reason: "payload is not a JSON object", make: async () => bearer(await handSigned(await devHeader(), '"admin"')) },
  { name: "payload is not JSON, validly signed", status: 401, code: "INVALID_JWT", reason: "payload: not valid JSON", make: async () => bearer(await handSigned(await devHeader(), "sub=admin")) },
  { name: "header JSON is an array, validly signed", status: 401, code: "INVALID_JWT", reason: "header is not a JSON object", make: async () =>
    bearer(await handSigned(`["ES256",${JSON.stringify(await devKid())}]`, JSON.stringify(await claims()))) },

  // signatures
  { name: "signature of another token (same key), transplanted", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () => {
    const [h, p] = (await mintToken({ user_role: "guest" })).split(".");
    const [, , s] = (await mintToken({ user_role: "admin" })).split(".");
    return bearer(`${h}.${p}.${s}`);
  } },
  { name: "payload altered after signing (user_role escalated)", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () => {
    const [h, p, s] = (await mintToken({ user_role: "guest" })).split(".");
    const claimsSeen = JSON.parse(new TextDecoder().decode(jose.base64url.decode(p)));
    return bearer(`${h}.${b64u(JSON.stringify({ ...claimsSeen, user_role: "admin" }))}.${s}`);
  } },
  // 86 characters less one: a length no unpadded base64url has, whatever the signature's bytes. (Cutting
  // four left a two-character tail that is canonical one time in sixteen: a flaky expectation.)
  { name: "truncated signature (last character cut)", status: 401, code: "INVALID_JWT", reason: "signature is not canonical unpadded base64url (BadLength)", make: async () => bearer((await mintToken()).slice(0, -1)) },
  { name: "signature shortened to 48 bytes (canonical base64url)", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () => {
    const [h, p, s] = (await mintToken()).split(".");
    return bearer(`${h}.${p}.${b64u(jose.base64url.decode(s).slice(0, 48))}`);
  } },
  { name: "empty signature", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () => {
    const [h, p] = (await mintToken()).split(".");
    return bearer(`${h}.${p}.`);
  } },
  { name: "DER-encoded ECDSA signature instead of P1363", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () => {
    const t = await handSigned(await devHeader(), JSON.stringify(await claims()));
    const [h, p, s] = t.split(".");
    const raw = jose.base64url.decode(s);
    const int = (b: Uint8Array) => {
      let i = 0;
      while (i < b.length - 1 && b[i] === 0) i++;
      const v = b.slice(i);
      return v[0] & 0x80 ? [0x02, v.length + 1, 0, ...v] : [0x02, v.length, ...v];
    };
    const body = [...int(raw.slice(0, 32)), ...int(raw.slice(32))];
    return bearer(`${h}.${p}.${b64u(new Uint8Array([0x30, body.length, ...body]))}`);
  } },
  { name: "HS256 signed with a wrong secret", status: 401, code: "INVALID_JWT", reason: "bad signature", make: async () => {
    const input = `${b64u(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64u(JSON.stringify(await claims()))}`;
    return bearer(`${input}.${await hs256(input, enc.encode("not-the-project-secret-but-long-enough-0123"))}`);
  } },

  // claims
  { name: "expired (exp 1 h ago)", status: 401, code: "INVALID_JWT", reason: "token expired", make: async () => bearer(await mintToken({}, { expiresIn: -3600 })) },
  { name: "expired beyond the leeway (exp 2 min ago)", status: 401, code: "INVALID_JWT", reason: "token expired", make: async () => bearer(await mintToken({}, { expiresIn: -120 })) },
  { name: "no exp claim", status: 401, code: "INVALID_JWT", reason: "token has no exp", make: async () => {
    const c = await claims();
    delete c.exp;
    return bearer(await handSigned(await devHeader(), JSON.stringify(c)));
  } },
  { name: "exp as a string", status: 401, code: "INVALID_JWT", reason: "claim \"exp\" is not a number", make: async () =>
    bearer(await handSigned(await devHeader(), JSON.stringify(await claims({ exp: String(Math.floor(Date.now() / 1000) + 3600) })))) },
  { name: "nbf 1 h in the future", status: 401, code: "INVALID_JWT", reason: "token not yet valid (nbf in the future)", make: async () =>
    bearer(await mintToken({ nbf: Math.floor(Date.now() / 1000) + 3600 })) },
  { name: "iat 1 h in the future", status: 401, code: "INVALID_JWT", reason: "token issued in the future (iat)", make: async () =>
    bearer(await mintToken({ iat: Math.floor(Date.now() / 1000) + 3600 })) },
  { name: "aud mismatch (policy audience `authenticated`)", status: 401, code: "INVALID_JWT", reason: "audience mismatch", make: async () =>
    bearer(await mintToken({ aud: "https://other-project.example" })) },
  { name: "aud missing (policy audience `authenticated`)", status: 401, code: "INVALID_JWT", reason: "audience mismatch", make: async () => {
    const c = await claims();
    delete c.aud;
    return bearer(await handSigned(await devHeader(), JSON.stringify(c)));
  } },
  { name: "missing sub", status: 401, code: "INVALID_JWT", reason: "token has no sub", make: async () => {
    const c = await claims();
    delete c.sub;
    return bearer(await handSigned(await devHeader(), JSON.stringify(c)));
  } },
  { name: "legacy anon key (HS256, role anon, no sub) as a user token", status: 401, code: "INVALID_JWT", reason: "audience mismatch", make: async () =>
    bearer(await new jose.SignJWT({ iss: "supabase-demo", role: "anon" }).setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setExpirationTime("1h").sign(enc.encode((await devKeys()).env.JWT_SECRET))) },
  { name: "anonymous user (is_anonymous: true) refused", status: 403, code: "FORBIDDEN", reason: "anonymous users are not allowed on this route", make: async () =>
    bearer(await mintToken({ is_anonymous: true, role: "authenticated" })) },
];

const me = (headers: HeadersInit) => fetch(`${functionsUrl}/me`, { headers });

const results: { name: string; want: string; got: string; reason: string; pass: boolean }[] = [];

Deno.test(`token-attack catalogue: ${cases.length} cases against me over HTTP`, async (t) => {
  assert.ok(cases.filter((c) => c.code !== null).length >= 30, "at least 30 attack cases");
  for (const c of cases) {
    await t.step(c.name, async () => {
      const headers = await c.make();
      const res = await me(headers);
      const want = c.code ? `${c.status} ${c.code}` : `${c.status}`;
      let got = `${res.status}`;
      let reason = "";
      try {
        if (c.code) {
          const text = await res.clone().text();
          const body = await errorBody(res);
          got = `${res.status} ${body.code}`;
          reason = String((body as { hint?: unknown }).hint ?? "");
          // nothing of the presented token comes back
          const auth = new Headers(headers).get("authorization") ?? "";
          for (const part of auth.replace(/^\S+\s*/, "").split(".")) {
            if (part.length >= 16) assert.ok(!text.includes(part), "a token segment was echoed");
          }
          assert.equal(res.headers.get("x-request-id"), body.request_id);
        } else {
          const body = await res.json();
          assert.equal(typeof body.sub, "string", JSON.stringify(body));
        }
      } finally {
        results.push({ name: c.name, want, got, reason, pass: want === got && reason === (c.reason ?? "") });
        if (!res.bodyUsed) await res.body?.cancel();
      }
      assert.equal(got, want, c.name);
      // the dev stack runs with APP_ENV=development, so the precise reason is in `hint`
      assert.equal(reason, c.reason ?? "", c.name);
    });
  }
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`\n| # | case | expected | got | reason (hint) |\n| --- | --- | --- | --- | --- |`);
  results.forEach((r, i) =>
    console.log(`| ${i + 1} | ${r.name.padEnd(width)} | ${r.want} | ${r.got}${r.pass ? "" : " FAIL"} | ${r.reason} |`));
});
