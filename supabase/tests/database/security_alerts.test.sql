-- pgTAP: security alerts (docs/alerts.md; migration
-- 20261202001500_security_alerts.sql). Detection per rule and threshold, one
-- alert per rule, tenant, subject and window, the outbox's retries with
-- backoff and giving up, and who may read or run what.
begin;
set local search_path = public, extensions;
create extension if not exists pgtap with schema extensions;

select plan(46);

-- Schema and privileges -------------------------------------------------------------

select has_table('private', 'security_alert_rules', 'private.security_alert_rules exists');
select has_table('private', 'security_alerts', 'private.security_alerts (the outbox) exists');
select is((select array_agg(rule || ':' || enabled || ':' || threshold || ':' || window_s order by rule)
           from private.security_alert_rules),
  array['audit_chain:true:1:3600', 'auth_failures:true:20:300', 'bad_signatures:true:10:300', 'rate_limited:false:50:300'],
  'default rules: 20 auth failures / 5 min, 10 bad signatures / 5 min, any broken chain; rate limits off');
select ok((select relrowsecurity from pg_class where oid = 'private.security_alerts'::regclass), 'RLS is on for the outbox');
select ok((select relrowsecurity from pg_class where oid = 'private.security_alert_rules'::regclass), 'RLS is on for the rules');
select is(eg_tests.try('admin', 'select * from private.security_alerts'), 'error:42501',
  'a tenant admin cannot read the outbox');
select is(eg_tests.try('anon', 'select * from private.security_alerts'), 'error:42501', 'anon cannot read the outbox');
select is(eg_tests.try('admin', 'select * from private.security_alert_rules'), 'error:42501',
  'a tenant admin cannot read the rules');
select is(eg_tests.try('admin', 'update private.security_alert_rules set enabled = false'), 'error:42501',
  'a tenant admin cannot switch a rule off');
select is(eg_tests.try('admin', 'select * from private.detect_security_alerts()'), 'error:42501',
  'a tenant admin cannot run the detection');
select is(eg_tests.try('member', 'select * from private.claim_security_alerts()'), 'error:42501',
  'a member cannot claim alerts');
select is(eg_tests.try('admin', $$select private.record_security_alert_attempt(gen_random_uuid(), true, 200, null)$$),
  'error:42501', 'a tenant admin cannot mark an alert delivered');
select is(eg_tests.try('service', 'update private.security_alert_rules set threshold = 25 where rule = ''auth_failures'''),
  'ok:1', 'the service role tunes a threshold');
select is(eg_tests.try('service', 'update private.security_alert_rules set alert_type = ''security.x'' where rule = ''auth_failures'''),
  'error:42501', 'the service role cannot rename an alert type');
select is(eg_tests.try('service', 'delete from private.security_alert_rules'), 'error:42501',
  'the service role cannot delete rules');
select is(eg_tests.try('service', $$insert into private.security_alerts (rule, alert_type, scope, subject, window_start,
    window_end, detected_at, next_attempt_at, payload) values ('audit_chain', 'security.audit_chain', gen_random_uuid(),
    'x', now(), now(), now(), now(), '{}')$$),
  'error:42501', 'the service role cannot write the outbox directly (only the functions do)');
select is(eg_tests.try('service', 'select * from private.detect_security_alerts()') ~ '^ok:', true,
  'the service role runs the detection');

-- Detection ---------------------------------------------------------------------------

\o /dev/null
-- only this file's events count: older ones (the seed, other files) are outside the window
create temp table t_now as select now() + interval '1 hour' as t;
create temp table t_found (id uuid, rule text, scope uuid, subject text, payload jsonb, window_start timestamptz);
insert into public.security_events (occurred_at, event_type, severity, details)
select (select t from t_now) - interval '1 minute', 'auth_denied', 'notice',
       jsonb_build_object('route', 'GET /alerts-test', 'code', case when i <= 12 then 'INVALID_JWT' else 'MISSING_CREDENTIALS' end,
                          'reason', 'test')
from generate_series(1, 19) i;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now));
\o
select is((select count(*)::int from t_found where subject = 'GET /alerts-test'), 0,
  '19 auth failures on a route: below the threshold, no alert');

\o /dev/null
insert into public.security_events (occurred_at, event_type, severity, details)
values ((select t from t_now) - interval '30 seconds', 'auth_denied', 'notice',
        '{"route": "GET /alerts-test", "code": "INVALID_JWT", "reason": "test"}');
truncate t_found;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now));
\o
select is((select count(*)::int from t_found where subject = 'GET /alerts-test'), 1, 'the 20th failure makes one alert');
select is((select payload - 'window' from t_found where subject = 'GET /alerts-test'),
  '{"rule": "auth_failures", "route": "GET /alerts-test", "events": 20, "threshold": 20, "tenant_id": null,
    "by_code": {"INVALID_JWT": 13, "MISSING_CREDENTIALS": 7}}'::jsonb,
  'the alert says rule, route, counts per code, threshold and tenant');
select is((select (payload -> 'window' ->> 'seconds')::int from t_found where subject = 'GET /alerts-test'), 300,
  'and its window');
select is((select a.status || ':' || a.attempts || ':' || (a.next_attempt_at = a.detected_at)::text
           from private.security_alerts a join t_found f using (id) where f.subject = 'GET /alerts-test'),
  'pending:0:true', 'a new alert is pending and due at once');

\o /dev/null
truncate t_found;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now) + interval '10 seconds');
\o
select is((select count(*)::int from t_found where subject = 'GET /alerts-test'), 0,
  'the same burst seen again in the same window: no second alert');

\o /dev/null
-- a burst that continues into the next fixed window is still the same alert
insert into public.security_events (occurred_at, event_type, severity, details)
select (select t from t_now) + interval '4 minutes', 'auth_denied', 'notice',
       '{"route": "GET /alerts-test", "code": "INVALID_JWT"}'
from generate_series(1, 25);
truncate t_found;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now) + interval '4 minutes 30 seconds');
\o
select is((select count(*)::int from t_found where subject = 'GET /alerts-test'), 0,
  'a burst alerted less than one window ago is not alerted again, even across a window boundary');

\o /dev/null
truncate t_found;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now) + interval '6 minutes');
\o
select is((select count(*)::int from t_found where subject = 'GET /alerts-test'), 1,
  'one window after the first alert, a burst still going alerts again');
select throws_ok(
  $$insert into private.security_alerts (rule, alert_type, scope, subject, window_start, window_end, detected_at,
      next_attempt_at, payload)
    select rule, alert_type, scope, subject, window_start, window_end, detected_at, next_attempt_at, payload
    from private.security_alerts where subject = 'GET /alerts-test' limit 1$$,
  '23505', null, 'the outbox holds one alert per rule, scope, subject and window (unique constraint)');

\o /dev/null
-- tenant A's failures are counted apart from the project-wide ones
insert into public.security_events (occurred_at, event_type, severity, tenant_id, details)
select (select t from t_now) - interval '1 minute', 'auth_denied', 'warning', 'aaaaaaaa-0000-4000-8000-000000000000',
       '{"route": "GET /alerts-tenant", "code": "FORBIDDEN"}'
from generate_series(1, 20);
insert into public.security_events (occurred_at, event_type, severity, details)
select (select t from t_now) - interval '1 minute', 'auth_denied', 'notice', '{"route": "GET /alerts-tenant", "code": "INVALID_JWT"}'
from generate_series(1, 5);
-- 9 bad signatures on github, 10 on shopify
insert into public.security_events (occurred_at, event_type, severity, details)
select (select t from t_now) - interval '2 minutes', 'webhook_signature_invalid', 'warning',
       jsonb_build_object('endpoint', case when i <= 9 then 'github' else 'shopify' end,
                          'route', case when i <= 9 then 'POST /webhooks/github' else 'POST /webhooks/shopify' end,
                          'code', 'INVALID_SIGNATURE')
from generate_series(1, 19) i;
insert into public.security_events (occurred_at, event_type, severity, details)
select (select t from t_now) - interval '2 minutes', 'rate_limited', 'warning', '{"route": "GET /alerts-rl", "rule": "ip-min"}'
from generate_series(1, 60);
truncate t_found;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now));
\o
select is((select array_agg(scope::text || ' ' || (payload ->> 'events') || ' ' || coalesce(payload ->> 'tenant_id', '-'))
           from t_found where subject = 'GET /alerts-tenant'),
  array['aaaaaaaa-0000-4000-8000-000000000000 20 aaaaaaaa-0000-4000-8000-000000000000'],
  'failures in a tenant alert for that tenant; the 5 project-wide ones do not add to them');
select is((select array_agg(subject || ' ' || (payload ->> 'events') order by subject) from t_found where rule = 'bad_signatures'),
  array['shopify 10'], '10 bad signatures on one endpoint alert; 9 do not');
select is((select payload ->> 'route' from t_found where rule = 'bad_signatures'), 'POST /webhooks/shopify',
  'the bad-signature alert names the route');
select is((select count(*)::int from t_found where rule = 'rate_limited'), 0, 'rate-limit bursts are off by default');

\o /dev/null
update private.security_alert_rules set enabled = true where rule = 'rate_limited';
truncate t_found;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now));
\o
select is((select (payload ->> 'events') || ' ' || (payload -> 'by_rule' ->> 'ip-min') from t_found where rule = 'rate_limited'),
  '60 60', 'once enabled, 60 rate-limit refusals on one route alert with counts per rule');
select ok(not exists (select 1 from private.security_alerts where payload ?| array['ip', 'client_ip', 'user_agent', 'details']),
  'no alert carries an IP, user agent or raw event details');

-- Audit chain ------------------------------------------------------------------------

\o /dev/null
alter table public.audit_logs disable trigger user;
update public.audit_logs set operation = 'DELETE'
  where id = (select min(id) from public.audit_logs where chain_id = 'bbbbbbbb-0000-4000-8000-000000000000');
alter table public.audit_logs enable trigger user;
truncate t_found;
insert into t_found select id, rule, scope, subject, payload, window_start
  from private.detect_security_alerts((select t from t_now));
\o
select is((select scope::text || ' ' || (payload ->> 'reason') || ' ' || (payload ->> 'first_broken_seq')
           from t_found where rule = 'audit_chain'),
  'bbbbbbbb-0000-4000-8000-000000000000 hash_mismatch 1', 'a tampered chain alerts with its tenant and first broken link');
select is((select count(*)::int from t_found where rule = 'audit_chain'), 1, 'only the broken chain alerts');

-- Delivery: claim, backoff, give up ---------------------------------------------------

create temp table t_claim as select * from private.claim_security_alerts((select t from t_now), 100);
select is((select count(*)::int from t_claim),
  (select count(*)::int from private.security_alerts where status = 'pending' and detected_at <= (select t from t_now)),
  'every due alert is claimed (not the one detected later)');
select is((select count(*)::int from private.claim_security_alerts((select t from t_now), 100)), 0,
  'a claimed alert is not claimed again by a second run');
select is((select min(next_attempt_at - (select t from t_now))::text || ' ' || max(attempts) from private.security_alerts
           where id in (select id from t_claim)), '00:00:30 1', 'the claim counts the attempt and schedules the retry 30 s later');

create temp table t_one as select id from t_claim where alert_type = 'security.audit_chain';
select is(private.record_security_alert_attempt((select id from t_one), false, 500, 'receiver answered 500',
                                                (select t from t_now)), 'pending', 'a 500 leaves the alert pending');
select is((select last_status || ' ' || last_error from private.security_alerts where id = (select id from t_one)),
  '500 receiver answered 500', 'the failure is recorded');
select is((select array_agg(c.attempts) from private.claim_security_alerts((select t from t_now) + interval '29 seconds', 100) c
           where c.id = (select id from t_one)), null, 'not retried before the backoff is over');
create temp table t_retry as select * from private.claim_security_alerts((select t from t_now) + interval '31 seconds', 100);
select is((select array_agg(c.attempts::text || ' ' || (a.next_attempt_at - (select t from t_now) - interval '31 seconds')::text)
           from t_retry c join private.security_alerts a on a.id = c.id
           where c.id = (select id from t_one)),
  array['2 00:01:00'], 'the second attempt comes after 30 s and schedules the third a minute later (backoff doubles)');
select is(private.record_security_alert_attempt((select id from t_one), true, 204, null, (select t from t_now) + interval '32 seconds'),
  'delivered', 'a 2xx delivers');
select is((select status || ' ' || (last_error is null)::text || ' ' || (delivered_at is not null)::text
           from private.security_alerts where id = (select id from t_one)),
  'delivered true true', 'delivered_at set, the error cleared');

\o /dev/null
update private.security_alerts set attempts = 7, next_attempt_at = (select t from t_now)
  where id = (select id from t_claim where alert_type = 'security.bad_signatures');
select * from private.claim_security_alerts((select t from t_now), 100);
\o
select is(private.record_security_alert_attempt((select id from t_claim where alert_type = 'security.bad_signatures'),
                                                false, null, 'timeout', (select t from t_now)),
  'failed', 'the 8th failed attempt gives the alert up');
select is((select status || ' ' || attempts || ' ' || last_error || ' ' || (failed_at is not null)::text
           from private.security_alerts where id = (select id from t_claim where alert_type = 'security.bad_signatures')),
  'failed 8 timeout true', 'and records it');

\o /dev/null
update private.security_alerts set detected_at = (select t from t_now) - interval '2 days', next_attempt_at = (select t from t_now)
  where id = (select id from t_claim where alert_type = 'security.rate_limited');
select * from private.claim_security_alerts((select t from t_now), 100);
\o
select is((select status || ' ' || last_error from private.security_alerts
           where id = (select id from t_claim where alert_type = 'security.rate_limited')),
  'failed expired before delivery', 'an alert still undelivered a day after detection is given up');

select * from finish();
rollback;
