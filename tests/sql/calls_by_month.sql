-- Calls partitioned by month (sql/009): one call per (source, PBX call id)
-- across partitions, a re-push moving months, keys kept by the trigger,
-- partitions ahead, and retention (a month dropped, then what referred to
-- it; batches elsewhere). Rolled back.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SET client_min_messages = warning;
TRUNCATE call_revisions, recordings, tasks, calls, call_keys, leads, agents, dead_letters, sources
    RESTART IDENTITY CASCADE;
SELECT plan(24);

INSERT INTO sources (name, auth_mode) VALUES ('pbx', 'none'), ('other', 'none');

CREATE FUNCTION pg_temp.push(p_source bigint, p_id text, p_start timestamptz, p_raw jsonb,
                             p_recordings jsonb DEFAULT '[]')
RETURNS text LANGUAGE sql AS $$
    SELECT outcome FROM ringlog_ingest_call(
        p_source, p_id, 'in', 'answered', '1001', NULL, NULL, '1002', NULL, NULL, NULL, NULL,
        to_char(p_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00', NULL, NULL, 'UTC',
        60, 50, p_recordings, p_raw, now(), NULL)
$$;
CREATE TEMP TABLE m AS
SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS this,
       (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC' AS next;

SELECT is((SELECT relkind::text FROM pg_class WHERE relname = 'calls'), 'p', 'calls is partitioned');
SELECT ok(to_regclass('calls_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')) IS NOT NULL,
          'this month has its partition');
SELECT ok(to_regclass('calls_' || to_char(now() AT TIME ZONE 'UTC' + interval '3 months', 'YYYY_MM'))
          IS NOT NULL, 'three months ahead are made');

-- One call, then a re-push that moves it to next month.
SELECT is(pg_temp.push(1, 'a', (SELECT this FROM m) + interval '27 days', '{"v": 1}',
                       '[{"ref": "rec-a"}]'), 'stored', 'stored this month');
SELECT is((SELECT tableoid::regclass::text FROM calls WHERE pbx_call_id = 'a'),
          'calls_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM'), 'in this month''s partition');
SELECT is(pg_temp.push(1, 'a', (SELECT next FROM m) + interval '1 hour', '{"v": 2}'), 'updated',
          'a re-push with another start');
SELECT is((SELECT count(*)::int FROM calls WHERE pbx_call_id = 'a'), 1, 'still one call');
SELECT is((SELECT tableoid::regclass::text FROM calls WHERE pbx_call_id = 'a'),
          'calls_' || to_char(now() AT TIME ZONE 'UTC' + interval '1 month', 'YYYY_MM'),
          'moved to next month''s partition');
SELECT is((SELECT k.started_at = c.started_at FROM call_keys k JOIN calls c ON c.id = k.call_id
            WHERE k.pbx_call_id = 'a'), true, 'its key follows');
SELECT is((SELECT count(*)::int FROM recordings r JOIN call_keys k ON k.call_id = r.call_id
            WHERE k.pbx_call_id = 'a'), 1, 'its recording is still its own');
SELECT is(pg_temp.push(1, 'a', (SELECT this FROM m) + interval '27 days', '{"v": 1}'), 'updated',
          'and back');
SELECT is((SELECT count(*)::int FROM call_keys), 1, 'one key all along');
SELECT is(pg_temp.push(2, 'a', (SELECT this FROM m) + interval '27 days', '{"v": 1}'), 'stored',
          'the same PBX call id of another source is another call');

-- Rows written by others get keys; a second row of one call is refused.
INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)
VALUES (1, 'direct', 'in', 'missed', now(), '{}');
SELECT is((SELECT count(*)::int FROM call_keys WHERE pbx_call_id = 'direct'), 1, 'a direct insert gets its key');
SELECT throws_ok($$INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)
                   VALUES (1, 'direct', 'in', 'missed', now() - interval '2 months', '{}')$$,
                 '23505', NULL, 'a second row of one call, in another month, is refused');
DELETE FROM calls WHERE pbx_call_id = 'direct';
SELECT is((SELECT count(*)::int FROM call_keys WHERE pbx_call_id = 'direct'), 0, 'a delete takes the key');

-- Partitions ahead.
SELECT is((SELECT count(*)::int FROM ringlog_calls_partitions(5)), 2, 'two more months made');

-- A month every source lets expire is dropped, then what referred to it.
CREATE TABLE calls_2020_01 PARTITION OF calls
    FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-02-01 00:00:00+00');
SELECT is(pg_temp.push(1, 'old', '2020-01-15 10:00:00+00', '{"v": 0}'), 'stored', 'an old call');
INSERT INTO recordings (call_id, position, state, blob_key, size_bytes)
SELECT call_id, 0, 'stored', repeat('ab', 32), 10 FROM call_keys WHERE pbx_call_id = 'old';
SELECT is((SELECT count(*)::int FROM ringlog_drop_expired_months(NULL)), 0,
          'nothing drops while a source keeps calls for ever');
UPDATE sources SET keep_calls = '400 days' WHERE name = 'pbx';
SELECT is((SELECT string_agg(month, ',') FROM ringlog_drop_expired_months(NULL, true)), NULL,
          'nor while another source does (no default)');
SELECT is((SELECT string_agg(month, ',') FROM ringlog_drop_expired_months('400 days')), '2020-01',
          'dropped when all do');
SELECT ok(to_regclass('calls_2020_01') IS NULL, 'the partition is gone');
SELECT is((SELECT (removed, freed_blobs)::text FROM ringlog_expire('orphans', NULL, now(), 100)),
          (1::bigint, ARRAY[repeat('ab', 32)])::text, 'its key and recording go after, the blob is freed');
SELECT is((SELECT count(*)::int FROM recordings WHERE blob_key = repeat('ab', 32)), 0,
          'no row points to the blob');

SELECT * FROM finish();
ROLLBACK;
