// The page's client: configuration comes in the URL fragment
// (`#{"api": …, "key": …, "token": …}`), so no secret is served by the page.
const config = JSON.parse(decodeURIComponent(location.hash.slice(1) || "{}"));
const status = document.getElementById("status");
const log = document.getElementById("log");

// Cookies (the CSRF subject of an anonymous caller) travel cross-origin only with credentials.
const withCookies = (input, init = {}) => fetch(input, { ...init, credentials: "include" });
const anonymous = window.supabase.createClient(config.api, config.key, { global: { fetch: withCookies } });

function show(message) {
  status.textContent = message;
  log.textContent += `${message}\n`;
}

/** An error of functions.invoke as the user sees it, with the answer's code and headers. */
async function describe(error) {
  const res = error?.context;
  if (!(res instanceof Response)) return { name: error?.name ?? "Error", message: String(error?.message ?? error) };
  const body = await res.json().catch(() => ({}));
  return {
    name: error.name,
    status: res.status,
    code: body.code,
    retryAfter: res.headers.get("retry-after"),
    requestId: res.headers.get("x-request-id"),
  };
}

window.edgeguardDemo = {
  /** A JSON POST with credentials headers: the browser sends a CORS preflight first. */
  async createItem() {
    const { data, error } = await anonymous.functions.invoke("request-probe/items", {
      method: "POST",
      body: { name: "widget", email: "buyer@example.com" },
    });
    if (error) {
      const e = await describe(error);
      show(`create failed: ${e.status ?? e.name} ${e.code ?? e.message}`);
      return { ok: false, error: e };
    }
    show(`created ${data.route}`);
    return { ok: true, data };
  },

  /** The CSRF flow of a cookie-authenticated web client: token (and cookie), then a form POST. */
  async submitForm(withToken) {
    const api = `${config.api}/functions/v1/request-probe`;
    const issued = await (await withCookies(`${api}/csrf`)).json();
    const res = await withCookies(`${api}/form`, {
      method: "POST",
      headers: withToken ? { "content-type": "application/x-www-form-urlencoded", "x-csrf-token": issued.token } : { "content-type": "application/x-www-form-urlencoded" },
      body: "comment=hello",
    });
    const body = await res.json();
    show(`form ${res.status} ${body.code ?? "ok"}`);
    return { status: res.status, code: body.code ?? null, tokenIssued: typeof issued.token === "string" };
  },

  /** A signed-in user calling until the limit: the 429 is shown with its Retry-After. */
  async callUntilLimited(times) {
    const user = window.supabase.createClient(config.api, config.key, {
      global: { headers: { Authorization: `Bearer ${config.token}` } },
    });
    const results = [];
    for (let i = 0; i < times; i++) {
      const { error } = await user.functions.invoke("request-probe/user", { method: "GET" });
      if (!error) {
        results.push({ status: 200 });
        continue;
      }
      const e = await describe(error);
      results.push(e);
      if (e.status === 429) show(`Too many requests: try again in ${e.retryAfter} s (${e.code})`);
    }
    return results;
  },
};
show("ready");
