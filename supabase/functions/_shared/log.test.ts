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
  assert(redact(42) === 42 && redact(null) === null, "non-strings untouched");
});
