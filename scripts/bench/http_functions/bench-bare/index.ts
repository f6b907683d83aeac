// The over-HTTP benchmark's floor: no guard, answers "ok".
export default { fetch: (_req: Request) => new Response("ok") };
