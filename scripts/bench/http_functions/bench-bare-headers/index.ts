// No guard, but the response carries the headers edgeguard's does (the
// benchmark passes them as JSON pairs in EDGEGUARD_BENCH_HEADERS): what the
// response header bytes alone cost over HTTP.
const headers: [string, string][] = JSON.parse(Deno.env.get("EDGEGUARD_BENCH_HEADERS") ?? "[]");

export default { fetch: (_req: Request) => new Response("ok", { headers }) };
