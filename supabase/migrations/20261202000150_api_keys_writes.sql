-- edgeguard: api_keys rows are not client-trusted.
--
-- Until now a signed-in client could insert its own api_keys rows, choosing
-- key_hash and scopes itself, and update name and revoked_at. A key whose hash
-- the client chose is a key the server never generated; scopes the client
-- wrote are scopes nobody granted. From here on every write is a service
-- operation: the `api-keys` function creates keys through the service
-- connection with the keyed hash computed by edgeguard-core, and renames and
-- revokes them the same way. Clients keep reading their own keys (and tenant
-- admins their tenant's), never key_hash. See docs/database.md.

drop policy api_keys_insert on public.api_keys;
drop policy api_keys_update on public.api_keys;
-- revoking a table privilege also revokes the column grants of that privilege
revoke insert, update, delete on table public.api_keys from anon, authenticated;
