// The running stack the end-to-end tests drive, described by the environment
// `npm test` sets (EDGEGUARD_API_URL, EDGEGUARD_DB_URL, EDGEGUARD_STATE_DIR);
// without it, the developer stack of `npm run dev` on the default ports.
import * as jose from "npm:jose@6.2.17";

const repoRoot = decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(/\/$/, "");

/** Repository root (absolute path). */
export const root = repoRoot;
/** The stack's API URL, e.g. http://127.0.0.1:54321. */
export const apiUrl = Deno.env.get("EDGEGUARD_API_URL") ??
  `http://127.0.0.1:${Deno.env.get("EDGEGUARD_API_PORT") ?? "54321"}`;
/** Where functions live: `${functionsUrl}/<name>`. */
export const functionsUrl = `${apiUrl}/functions/v1`;
/** The stack's direct Postgres URL. */
export const dbUrl = Deno.env.get("EDGEGUARD_DB_URL") ??
  `postgresql://postgres:postgres@127.0.0.1:${Deno.env.get("EDGEGUARD_DB_PORT") ?? "54322"}/postgres`;
/** The stack's state directory (dev keys live in `${stateDir}/keys/`). */
export const stateDir = Deno.env.get("EDGEGUARD_STATE_DIR") ?? `${repoRoot}/.local`;

/** What scripts/dev_keys.ts wrote for this stack. */
export interface DevKeys {
  private_jwk: jose.JWK;
  jwks: { keys: jose.JWK[] };
  env: Record<string, string>;
}

let keys: DevKeys | undefined;

/** The stack's dev keys (private ES256 JWK, public JWKS, secrets). */
export async function devKeys(): Promise<DevKeys> {
  keys ??= JSON.parse(await Deno.readTextFile(`${stateDir}/keys/dev-keys.json`)) as DevKeys;
  return keys;
}

/** Options for {@link mintToken}. */
export interface MintOptions {
  /** Seconds until `exp`; negative for an expired token. Default 3600. */
  expiresIn?: number;
  /** ES256 with the dev key (default) or HS256 with the legacy JWT_SECRET. */
  alg?: "ES256" | "HS256";
  /** Sign with this key instead of the dev key (ES256). */
  signWith?: CryptoKey;
  /** Override the `kid` header. */
  kid?: string;
}

/** Mints an access token shaped like Supabase Auth's; `claims` override the defaults. */
export async function mintToken(claims: Record<string, unknown> = {}, options: MintOptions = {}): Promise<string> {
  const k = await devKeys();
  const now = Math.floor(Date.now() / 1000);
  const body = {
    iss: `${apiUrl}/auth/v1`,
    aud: "authenticated",
    sub: crypto.randomUUID(),
    role: "authenticated",
    email: "user@example.com",
    aal: "aal1",
    is_anonymous: false,
    session_id: crypto.randomUUID(),
    iat: now,
    exp: now + (options.expiresIn ?? 3600),
    ...claims,
  };
  if (options.alg === "HS256") {
    return await new jose.SignJWT(body)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode(k.env.JWT_SECRET));
  }
  const key = options.signWith ?? await jose.importJWK(k.private_jwk, "ES256");
  return await new jose.SignJWT(body)
    .setProtectedHeader({ alg: "ES256", typ: "JWT", kid: options.kid ?? k.private_jwk.kid })
    .sign(key);
}

/** A fresh ES256 key the stack does not know. */
export async function foreignKey(): Promise<CryptoKey> {
  return (await jose.generateKeyPair("ES256")).privateKey;
}

/** A TCP port nobody listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A function server process started by a test. */
export interface ServerProcess {
  url: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts another scripts/serve.ts process on a free port with the same state
 * (keys, database) as the stack; `env` adds or overrides settings such as
 * EDGEGUARD_CONFIG or EDGEGUARD_FUNCTIONS_DIR.
 */
export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repoRoot}/scripts/serve.ts`],
    cwd: repoRoot,
    env: {
      EDGEGUARD_STATE_DIR: stateDir,
      EDGEGUARD_API_PORT: String(port),
      EDGEGUARD_DB_PORT: new URL(dbUrl).port,
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  for (;;) {
    if (exited) {
      await pumps;
      throw new Error(`server exited before listening:\n${text}`);
    }
    if (text.includes("listening on")) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await status;
      await pumps;
      throw new Error(`server did not listen within 30s:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    output: () => text,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await status;
      await pumps;
    },
  };
}

/** Reads a JSON error body and checks the SPEC §6 shape; returns it. */
export async function errorBody(res: Response): Promise<{ code: string; message: string; request_id: string }> {
  if (!(res.headers.get("content-type") ?? "").startsWith("application/json")) {
    throw new Error(`error response is not JSON: ${res.headers.get("content-type")}`);
  }
  const body = await res.json();
  for (const key of ["code", "message", "request_id"]) {
    if (typeof body[key] !== "string" || body[key] === "") throw new Error(`error body lacks ${key}: ${JSON.stringify(body)}`);
  }
  return body;
}
