// Reads `verify_jwt` of every `[functions.<name>]` table of a supabase/config.toml.
// Only that key matters to the local gateway; the rest of the file is skipped.

/** Reads `verify_jwt` of every `[functions.<name>]` table. */
export function readVerifyJwt(toml: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  let current: string | undefined;
  for (const raw of toml.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[\s*([^\[\]]+?)\s*\]$/.exec(line);
    if (header) {
      const m = /^functions\.(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))$/.exec(header[1]);
      current = m ? (m[1] ?? m[2] ?? m[3]) : undefined;
      continue;
    }
    const kv = /^verify_jwt\s*=\s*(true|false)$/.exec(line);
    if (current && kv) out.set(current, kv[1] === "true");
  }
  return out;
}
