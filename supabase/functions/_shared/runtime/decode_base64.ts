// Decodes the base64 text of a generated wasm bytes module (scripts/build.sh):
// Uint8Array.fromBase64 where the runtime has it, atob otherwise.

/** The bytes of `text` (standard base64). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
