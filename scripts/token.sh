#!/usr/bin/env bash
# npm run token -- [flags]: a dev access token for the local stack, made by
# the one token tool, `edgeguard token` (crates/edgeguard-cli/src/token.rs),
# with this stack's dev keys (generated on first use, as `npm run dev` does).
#
#   npm run -s token -- --email a@b.c --user-role admin --tenant-id <uuid> \
#     --permissions users:read,services:write --exp 3600 [--alg HS256]
#
# Adds --key <state>/keys/dev-keys.json and --iss <api url>/auth/v1 before the
# given flags (a given --iss wins). --dir STATE_DIR picks another stack's keys.
# All flags: npm run token -- --help
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$EG_STATE"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || eg_die "--dir needs a value"; dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
keys="$dir/keys/dev-keys.json"
if [ ! -f "$keys" ]; then
  "$EG_DENO" run -A "$EG_ROOT/scripts/dev_keys.ts" --dir "$dir" >&2
fi
exec cargo run -q --manifest-path "$EG_ROOT/Cargo.toml" -p edgeguard-cli -- \
  token --key "$keys" --iss "$EG_API_URL/auth/v1" "${args[@]}"
