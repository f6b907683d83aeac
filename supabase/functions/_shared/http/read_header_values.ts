// Reads the request headers the core names, for one crossing into wasm
// instead of one per header (docs/architecture.md, "The wasm boundary").
// No decision here: the core splits and reads the values.

/**
 * The values of `names` in `headers`, each followed by "\n"; an absent
 * header is "\0". Fetch header values never hold NUL, CR or LF, so the core
 * splits this unambiguously (and falls back to reading one by one if not).
 */
export function readHeaderValues(headers: Headers, names: string[]): string {
  let out = "";
  for (const name of names) {
    const v = headers.get(name);
    out += v === null ? "\0\n" : v + "\n";
  }
  return out;
}
