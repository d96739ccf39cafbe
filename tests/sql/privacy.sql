-- Privacy (sql/040, README "Privacy"): erasing a number everywhere, the
-- tombstone that keeps an erased call from coming back, legal holds
-- against retention and erasure. Rolled back.
BEGIN ISOLATION LEVEL REPEATABLE READ;
CREATE EXTENSION IF NOT EXISTS pgtap;
SET client_min_messages = warning;
TRUNCATE call_revisions, recordings, tasks, calls, call_keys, leads, agents, dead_letters, sources,
         click2calls, call_events, holds, erased_calls, erasures, audit_log
    RESTART IDENTITY CASCADE;
SELECT plan(40);

SET LOCAL ringlog.privacy_key = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
INSERT INTO sources (name, auth_mode, country_code, keep_calls) VALUES ('hu', 'none', '36', NULL), ('il', 'none', '972', NULL);

-- HMAC-SHA256 as RFC 4231 test case 2 says.
SELECT is(encode(ringlog_privacy_hmac(convert_to('Jefe', 'UTF8'), 'what do ya want for nothing?'), 'hex'),
          '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'HMAC-SHA256 (RFC 4231 #2)');

CREATE FUNCTION pg_temp.push(p_source bigint, p_id text, p_dir text, p_disp text, p_caller text,
                             p_caller_e164 text, p_callee_e164 text, p_raw jsonb,
                             p_start timestamptz DEFAULT now() - interval '1 hour')
RETURNS text LANGUAGE sql AS $$
    SELECT outcome FROM ringlog_ingest_call(
        p_source, p_id, p_dir, p_disp, p_caller, p_caller_e164, NULL, '1002', p_callee_e164, NULL,
        '1002', NULL, to_char(p_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00', NULL, NULL,
        'UTC', 60, 50, '[]', p_raw, now(), NULL)
$$;
-- Every text, jsonb, bytea and array column of every table holding PAT.
CREATE FUNCTION pg_temp.traces(pat text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n bigint;
    found text := '';
BEGIN
    FOR r IN SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
               JOIN information_schema.tables t USING (table_schema, table_name)
              WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                AND c.data_type IN ('text', 'jsonb', 'bytea', 'character varying', 'ARRAY', 'json')
    LOOP
        IF r.data_type = 'bytea' THEN
            EXECUTE format('SELECT count(*) FROM %I WHERE position(convert_to($1, ''UTF8'') IN %I) > 0',
                           r.table_name, r.column_name) INTO n USING pat;
        ELSE
            EXECUTE format('SELECT count(*) FROM %I WHERE strpos(%I::text, $1) > 0',
                           r.table_name, r.column_name) INTO n USING pat;
        END IF;
        IF n > 0 THEN
            found := found || r.table_name || '.' || r.column_name || ' ';
        END IF;
    END LOOP;
    RETURN found;
END
$$;

-- A Hungarian caller: 36 30 123 4567 (national 06 30 123 4567).
SELECT is(pg_temp.push(1, 'c1', 'in', 'answered', '06301234567', '36301234567', NULL,
                       '{"from": "06301234567", "v": 1}'), 'stored', 'a call of the number');
SELECT is(pg_temp.push(1, 'c1', 'in', 'answered', '06301234567', '36301234567', NULL,
                       '{"from": "06301234567", "v": 2}'), 'updated', 'its revision');
SELECT is(pg_temp.push(1, 'c2', 'in', 'missed', '06301234567', '36301234567', NULL,
                       '{"from": "+36 30 123 4567"}'), 'stored', 'a missed call: a task');
SELECT is(pg_temp.push(2, 'c3', 'out', 'answered', '1002', NULL, '36301234567',
                       '{"to": "0036301234567"}'), 'stored', 'an outbound call to it from another source');
SELECT is(pg_temp.push(1, 'other', 'in', 'answered', '0612345678', '3612345678', NULL,
                       '{"from": "0612345678"}'), 'stored', 'someone else');
INSERT INTO recordings (call_id, position, state, blob_key, size_bytes)
SELECT call_id, 0, 'stored', repeat('ab', 32), 10 FROM call_keys WHERE pbx_call_id = 'c1';
INSERT INTO recordings (call_id, position, state, remote_ref)
SELECT call_id, 1, 'remote', 'ref-c1' FROM call_keys WHERE pbx_call_id = 'c1';
INSERT INTO call_events (source_id, pbx_call_id, status, phone, phone_e164, at)
VALUES (1, 'c1', 'ringing', '06301234567', '36301234567', now()),
       (1, 'c9', 'ringing', '+36301234567', NULL, now()),
       (1, 'o1', 'ringing', '0612345678', '3612345678', now());
INSERT INTO dead_letters (source_name, reason, message, method, body, query)
VALUES ('hu', 'bad_time', 'x', 'POST', convert_to('{"caller": "06 30 123 4567", "from": "06301234567"}', 'UTF8'), ''),
       ('hu', 'bad_time', 'x', 'GET', '', 'caller=%2B36301234567&x=1'),
       ('hu', 'bad_time', 'x', 'POST', convert_to('{"caller": "0612345678"}', 'UTF8'), '');
INSERT INTO click2calls (source_id, action, agent, extension, target, target_e164, outcome)
VALUES (1, 'call', 'anna', '1002', '+36301234567', '36301234567', 'calling'),
       (1, 'call', 'anna', '1002', '0612345678', '3612345678', 'calling');
INSERT INTO audit_log (actor, auth, action, filters, row_count)
VALUES ('crm', 'token', 'export', '{"phone": "+36301234567", "from": "2026-01-01"}', 3);

SELECT is((SELECT count(*)::int FROM leads WHERE phone = '36301234567'), 1, 'the number has a lead');
SELECT is((SELECT count(*)::int FROM tasks t JOIN leads l ON l.id = t.lead_id WHERE l.phone = '36301234567'), 1,
          'and a missed-call task');

-- A dry run lists and counts, removes nothing.
CREATE TEMP TABLE dry AS SELECT ringlog_erase('36301234567', NULL, true, 'test') AS r;
SELECT is((SELECT r->'removed' FROM dry),
          '{"calls": 3, "revisions": 1, "recordings": 2, "tasks": 3, "events": 2, "dead_letters": 2,
            "click2calls": 1, "leads": 1, "audit_filters": 1}'::jsonb, 'the dry run counts every kind');
SELECT is((SELECT jsonb_array_length(r->'calls') FROM dry), 3, 'and lists the calls');
SELECT is((SELECT count(*)::int FROM calls), 4, 'nothing removed');
SELECT is((SELECT count(*)::int FROM erasures), 0, 'nothing recorded');

-- Held: the call c2 stays, and the lead (its calls refer to it).
INSERT INTO holds (call_id, reason, held_by) SELECT call_id, 'dispute #4', 'dpo' FROM call_keys WHERE pbx_call_id = 'c2';
CREATE TEMP TABLE held AS SELECT ringlog_erase('36301234567', NULL, false, 'dpo') AS r;
SELECT is((SELECT r->'removed'->>'calls' FROM held), '2', 'two calls erased');
SELECT is((SELECT jsonb_path_query_array(r->'kept', '$[*].reason') FROM held),
          '["on hold: dispute #4", "other calls refer to it"]'::jsonb, 'what was kept, and why');
SELECT is((SELECT array_agg(pbx_call_id ORDER BY pbx_call_id) FROM calls), '{c2,other}', 'the held call stays');
SELECT is((SELECT r->'freed_blobs' FROM held), '["abababababababababababababababababababababababababababababababab"]'::jsonb,
          'its blob is freed for the caller to delete');
SELECT throws_ok($$DELETE FROM calls WHERE pbx_call_id = 'c2'$$, '23503', NULL,
                 'a held call cannot be deleted by any other way');

-- The hold lifted, everything goes: nothing of the number is left.
DELETE FROM holds;
CREATE TEMP TABLE gone AS SELECT ringlog_erase('36301234567', NULL, false, 'dpo') AS r;
SELECT is((SELECT r->'removed'->>'leads' FROM gone), '1', 'the lead goes with its last call');
SELECT is(pg_temp.traces('301234567'), '', 'no text, jsonb or bytea column holds the number');
SELECT is(pg_temp.traces('3012345'), '', 'nor a part of it');
SELECT is((SELECT count(*)::int FROM calls), 1, 'someone else''s call stays');
SELECT is((SELECT count(*)::int FROM dead_letters), 1, 'and their dead letter');
SELECT is((SELECT count(*)::int FROM call_events), 1, 'and their screen pop');
SELECT is((SELECT count(*)::int FROM erasures), 2, 'each erasure is recorded');
SELECT is((SELECT phone_hash FROM erasures ORDER BY id LIMIT 1),
          ringlog_privacy_hmac(decode(current_setting('ringlog.privacy_key'), 'hex'), 'phone:36301234567'),
          'with a keyed hash of the number');
SELECT is((SELECT removed->>'calls' FROM erasures ORDER BY id LIMIT 1), '2', 'and its counts');
SELECT is((SELECT count(*)::int FROM erased_calls), 3, 'three tombstones');

-- An erased call never comes back; a new call of the number is stored.
INSERT INTO call_keys (source_id, pbx_call_id, started_at) VALUES (1, 'c1', now());
SELECT is((SELECT count(*)::int FROM call_keys WHERE pbx_call_id = 'c1'), 0, 'the key of an erased call is not inserted');
INSERT INTO calls (source_id, pbx_call_id, direction, disposition, caller_e164, started_at, raw)
VALUES (1, 'c1', 'in', 'answered', '36301234567', now(), '{}');
SELECT is((SELECT count(*)::int FROM calls WHERE pbx_call_id = 'c1'), 0, 'nor its row, written directly');
SELECT is((SELECT call_id FROM ringlog_ingest_call(1, 'c2', 'in', 'answered', '1', NULL, NULL, '1002', NULL,
              NULL, '1002', NULL, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00',
              NULL, NULL, 'UTC', 60, 50, '[]', '{}', now(), NULL)), NULL,
          'a push of an erased call stores no call (ingest: no key, no call)');
SELECT is((SELECT count(*)::int FROM calls WHERE (source_id = 1 AND pbx_call_id IN ('c1', 'c2'))
             OR (source_id = 2 AND pbx_call_id = 'c3')), 0, 'nothing came back');
SELECT is(pg_temp.push(1, 'c3', 'out', 'answered', '1002', NULL, '36301234567', '{}'), 'stored',
          'the same PBX call id of the other source is not that call') ;
SELECT is(pg_temp.push(1, 'new', 'in', 'answered', '06301234567', '36301234567', NULL, '{}'), 'stored',
          'a new call of the number is new data: stored');
SELECT throws_ok($$SELECT ringlog_erase('36301234567', NULL, false, 'x') FROM (SELECT set_config('ringlog.privacy_key', '', true)) s$$,
                 '55000', NULL, 'no erasure without the privacy key');
SET LOCAL ringlog.privacy_key = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

-- Retention skips held calls: by batches, and a month with one is not dropped.
CREATE TABLE calls_2020_01 PARTITION OF calls
    FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-02-01 00:00:00+00');
SELECT ok(pg_temp.push(1, 'old-held', 'in', 'answered', '0612345678', '3612345678', NULL, '{}', '2020-01-10 10:00+00') = 'stored', 'an old call');
SELECT ok(pg_temp.push(1, 'old', 'in', 'answered', '0612345678', '3612345678', NULL, '{}', '2020-01-11 10:00+00') = 'stored', 'another');
INSERT INTO holds (call_id, reason, held_by) SELECT call_id, 'court order', 'dpo' FROM call_keys WHERE pbx_call_id = 'old-held';
UPDATE sources SET keep_calls = '400 days';
SELECT is((SELECT count(*)::int FROM ringlog_drop_expired_months(NULL)), 0, 'a month holding a held call is not dropped');
SELECT is((SELECT removed::int FROM ringlog_expire('calls', 1, now() - interval '400 days', 100)), 1,
          'its other calls go by batches');
SELECT is((SELECT array_agg(pbx_call_id) FROM calls WHERE started_at < '2021-01-01'), '{old-held}', 'the held call stays');
DELETE FROM holds;
SELECT is((SELECT removed::int FROM ringlog_expire('calls', 1, now() - interval '400 days', 100)), 1,
          'released, it expires');

SELECT * FROM finish();
ROLLBACK;
