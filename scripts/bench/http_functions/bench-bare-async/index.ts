// The bare function as an async handler: `guard()`'s handler is async, so
// this is what a Promise instead of a Response costs the server.
export default { fetch: async (_req: Request) => await Promise.resolve(new Response("ok")) };
