// Mints a dev access token shaped like a Supabase Auth one, signed with the
// local stack's ES256 key (kid set) or, with --alg HS256, the legacy JWT_SECRET.
//
//   npm run token -- --sub <uuid> --role authenticated --email a@b.c \
//     --user_role admin --tenant_id <uuid> --permissions users:read,services:write --exp 3600
//
// Options: --sub (default: random uuid) --role (authenticated) --email
//   --user_role --tenant_id --permissions (comma list or JSON array)
//   --aal (aal1) --is_anonymous (false) --exp SECONDS (3600; negative = expired)
//   --aud (authenticated) --iss (<api url>/auth/v1) --alg ES256|HS256
//   --dir STATE_DIR (default .local or $EDGEGUARD_STATE_DIR)
//   --app_metadata JSON  --claim NAME=VALUE (repeatable; VALUE parsed as JSON when it is)
// Any other --name VALUE becomes a claim. Prints the JWT on stdout.
import * as jose from "npm:jose@6.2.17";
import { ensureDevKeys, stateDir } from "./dev_keys.ts";

export interface MintOptions {
  claims: Record<string, unknown>;
  /** Seconds until expiry; negative makes an already expired token. */
  expiresIn: number;
  alg: "ES256" | "HS256";
}

function jsonOrString(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Parses the command line into claims and signing options. */
export function parseArgs(args: string[], apiUrl: string): MintOptions {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: `${apiUrl}/auth/v1`,
    aud: "authenticated",
    sub: crypto.randomUUID(),
    role: "authenticated",
    aal: "aal1",
    is_anonymous: false,
    session_id: crypto.randomUUID(),
    iat: now,
  };
  let expiresIn = 3600;
  let alg: "ES256" | "HS256" = "ES256";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument: ${arg}`);
    const name = arg.slice(2);
    const value = args[++i];
    if (value === undefined) throw new Error(`missing value for ${arg}`);
    switch (name) {
      case "dir":
        break;
      case "exp":
        expiresIn = Number(value);
        if (!Number.isFinite(expiresIn)) throw new Error(`--exp wants seconds, got ${value}`);
        break;
      case "alg":
        if (value !== "ES256" && value !== "HS256") throw new Error("--alg is ES256 or HS256");
        alg = value;
        break;
      case "permissions":
        claims.permissions = value.trim().startsWith("[")
          ? JSON.parse(value)
          : value.split(",").map((p) => p.trim()).filter(Boolean);
        break;
      case "is_anonymous":
        claims.is_anonymous = value === "true";
        break;
      case "app_metadata":
      case "user_metadata":
        claims[name] = JSON.parse(value);
        break;
      case "claim": {
        const eq = value.indexOf("=");
        if (eq <= 0) throw new Error("--claim wants NAME=VALUE");
        claims[value.slice(0, eq)] = jsonOrString(value.slice(eq + 1));
        break;
      }
      default:
        claims[name] = value;
    }
  }
  claims.exp = now + expiresIn;
  return { claims, expiresIn, alg };
}

/** Signs `options.claims` with the dev keys found in `dir`. */
export async function mintToken(dir: string, options: MintOptions): Promise<string> {
  const keys = await ensureDevKeys(dir);
  if (options.alg === "HS256") {
    return await new jose.SignJWT(options.claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode(keys.env.JWT_SECRET));
  }
  const key = await jose.importJWK(keys.private_jwk, "ES256");
  return await new jose.SignJWT(options.claims)
    .setProtectedHeader({ alg: "ES256", typ: "JWT", kid: keys.private_jwk.kid })
    .sign(key);
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    const text = await Deno.readTextFile(new URL(import.meta.url));
    console.log(text.split("\n").filter((l) => l.startsWith("//")).map((l) => l.slice(3)).join("\n"));
    Deno.exit(0);
  }
  try {
    const port = Deno.env.get("EDGEGUARD_API_PORT") ?? "54321";
    const options = parseArgs(Deno.args, `http://127.0.0.1:${port}`);
    console.log(await mintToken(stateDir(), options));
  } catch (e) {
    console.error(`token: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
}
