import { log, redact } from "./log.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

function capture(fn: () => void): string[] {
  const lines: string[] = [];
  const { log: l, error: e } = console;
  console.log = (s: string) => lines.push(s);
  console.error = (s: string) => lines.push(s);
  try {
    fn();
  } finally {
    console.log = l;
    console.error = e;
  }
  return lines;
}

const secrets = () => {
  const r = crypto.randomUUID().replaceAll("-", "");
  return {
    jwt: `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiI${r}.sig${r}`,
    sbSecret: `sb_secret_${r}`,
    egk: `egk_${r}`,
    bearer: `Bearer ${r}`,
    dbUrl: `postgresql://postgres:${r}@db.example.com:5432/postgres`,
    plain: r,
  };
};

Deno.test("one JSON line with level, msg, time and the fields", () => {
  const lines = capture(() => log("info", "hello", { request_id: "abc", n: 1 }));
  assert(lines.length === 1, "one line");
  const v = JSON.parse(lines[0]);
  assert(v.level === "info" && v.msg === "hello" && v.request_id === "abc" && v.n === 1, lines[0]);
  assert(!Number.isNaN(Date.parse(v.time)), "time is ISO");
});

Deno.test("credential-named fields are redacted at any depth", () => {
  const s = secrets();
  const lines = capture(() =>
    log("error", "x", {
      authorization: s.plain,
      nested: { api_key: s.plain, list: [{ csrf_token: s.plain }], CSRF_SECRET: s.plain },
      cookie: s.plain,
    })
  );
  assert(!lines[0].includes(s.plain), lines[0]);
  assert(lines[0].includes("[redacted]"), lines[0]);
});

Deno.test("credential-shaped values are redacted under any name", () => {
  const s = secrets();
  for (const v of [s.jwt, s.sbSecret, s.egk, s.bearer, s.dbUrl]) {
    const lines = capture(() => log("warn", `failed with ${v}`, { reason: `got ${v} here`, list: [v] }));
    assert(!lines[0].includes(v) && !lines[0].includes(s.plain), lines[0]);
  }
  assert(redact("a plain reason") === "a plain reason", "plain text untouched");
  assert((redact({ nested: { password: s.plain } }) as { nested: { password: string } }).nested.password === "[redacted]", "objects");
  assert(redact(42) === 42 && redact(null) === null, "non-strings untouched");
});

function withEnv(vars: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (k: string, v: string | undefined) => v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  for (const [k, v] of Object.entries(vars)) set(k, v);
  try {
    fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) set(k, v);
  }
}

Deno.test("an e-mail, phone, card or JWT in a message or field never reaches stdout/stderr", () => {
  const s = secrets();
  const email = `user.${s.plain}@example.com`;
  for (const level of ["info", "error"] as const) {
    const lines = capture(() =>
      log(level, `sign-in failed for ${email} with ${s.jwt}`, {
        error: `duplicate key (email)=(${email})`,
        detail: { phone: "+14155552671", card: "4242 4242 4242 4242", note: `token ${s.jwt} rejected` },
      })
    );
    assert(lines.length === 1, "one line");
    const line = lines[0];
    for (const leaked of [email, s.plain, "4155552671", "4242 4242", "eyJ"]) {
      assert(!line.includes(leaked), `${leaked} leaked: ${line}`);
    }
    const v = JSON.parse(line);
    assert(v.msg === "sign-in failed for [email] with [jwt]", line);
    assert(v.error === "duplicate key (email)=([email])", line);
    assert(v.detail.phone === "[phone]" && v.detail.card === "[card]", line);
    assert(v.level === level && !Number.isNaN(Date.parse(v.time)), line);
  }
});

Deno.test("IPs follow EDGEGUARD_LOG_IPS, else redacted in production and kept elsewhere", () => {
  const ipLine = () => capture(() => log("info", "from 203.0.113.7"))[0];
  const noMarkers = { SB_REGION: undefined, DENO_DEPLOYMENT_ID: undefined };
  withEnv({ ...noMarkers, EDGEGUARD_LOG_IPS: undefined, APP_ENV: "development" }, () => {
    assert(ipLine().includes("203.0.113.7"), "kept outside production");
  });
  withEnv({ ...noMarkers, EDGEGUARD_LOG_IPS: undefined, APP_ENV: "production" }, () => {
    const line = ipLine();
    assert(!line.includes("203.0.113.7") && line.includes("[ip]"), line);
  });
  withEnv({ EDGEGUARD_LOG_IPS: undefined, APP_ENV: undefined, SB_REGION: "eu-west-1", DENO_DEPLOYMENT_ID: undefined }, () => {
    assert(ipLine().includes("[ip]"), "hosted without APP_ENV is production");
  });
  withEnv({ ...noMarkers, EDGEGUARD_LOG_IPS: "keep", APP_ENV: "production" }, () => {
    assert(ipLine().includes("203.0.113.7"), "keep wins");
  });
  withEnv({ ...noMarkers, EDGEGUARD_LOG_IPS: "redact", APP_ENV: "development" }, () => {
    assert(ipLine().includes("[ip]"), "redact wins");
  });
});

Deno.test("unserialisable fields write a fixed notice, never the raw message", () => {
  const s = secrets();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const lines = capture(() => log("error", `secret ${s.plain}`, { cyclic }));
  assert(lines.length === 1 && !lines[0].includes(s.plain), lines[0]);
  assert(JSON.parse(lines[0]).level === "error", lines[0]);
});
