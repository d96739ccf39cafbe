-- Reconciliation (issue 15): the calls a pull fills are counted in
-- reconcile_state.filled by ringlog_ingest_calls, in the statement that
-- stores them, whichever way the batch goes (one push, the set-based path,
-- one by one); a duplicate or a push counts nothing. Rolled back.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SET client_min_messages = warning;
TRUNCATE call_revisions, recordings, tasks, calls, call_keys, leads, agents, dead_letters, sources,
         reconcile_state RESTART IDENTITY CASCADE;
SELECT plan(9);

INSERT INTO sources (name, auth_mode, country_code) VALUES ('vc', 'none', '972'), ('rs', 'none', '380');

-- One batch element: call P_ID of source P_SOURCE, pulled unless P_ORIGIN says otherwise.
CREATE FUNCTION pg_temp.el(p_source bigint, p_id text, p_origin text DEFAULT 'reconcile') RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'source_id', p_source, 'call_id', p_id, 'direction', 'in', 'disposition', 'answered',
        'caller', '0528812345', 'started_at', '2025-06-16 10:00:00+00', 'time_zone', 'UTC',
        'duration_s', 60, 'recordings', '[]'::jsonb, 'raw', '{}'::jsonb,
        'received_at', '2025-06-16 10:01:00+00', 'transport', '[]'::jsonb, 'origin', p_origin))
$$;
CREATE FUNCTION pg_temp.store(p_batch jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(outcome, ' ' ORDER BY idx) FROM ringlog_ingest_calls(p_batch)
$$;
CREATE FUNCTION pg_temp.filled(p_source bigint) RETURNS bigint LANGUAGE sql AS $$
    SELECT filled FROM reconcile_state WHERE source_id = p_source
$$;

SELECT is(pg_temp.store(jsonb_build_array(pg_temp.el(1, 'a'))), 'stored', 'one pulled call');
SELECT is(pg_temp.filled(1), 1::bigint, 'is counted');
SELECT is(pg_temp.store(jsonb_build_array(pg_temp.el(1, 'a'))), 'duplicate', 'pulled again');
SELECT is(pg_temp.store(jsonb_build_array(pg_temp.el(1, 'b'), pg_temp.el(1, 'a'), pg_temp.el(1, 'c'),
                                          pg_temp.el(2, 'x'))),
          'stored duplicate stored stored', 'a batch: two new, one known, one of another source');
SELECT is(ARRAY[pg_temp.filled(1), pg_temp.filled(2)], ARRAY[3, 1]::bigint[], 'each source counts its own');
-- The same call twice in a batch goes one by one: stored, then a duplicate.
SELECT is(pg_temp.store(jsonb_build_array(pg_temp.el(1, 'd'), pg_temp.el(1, 'd'))), 'stored duplicate',
          'one call twice in a batch');
SELECT is(pg_temp.filled(1), 4::bigint, 'counted once');
SELECT is(pg_temp.store(jsonb_build_array(pg_temp.el(1, 'p1', NULL), pg_temp.el(1, 'p2', NULL))),
          'stored stored', 'pushes');
SELECT is((SELECT count(*) FROM calls WHERE source_id = 1 AND origin = 'reconcile') || ' ' || pg_temp.filled(1),
          '4 4', 'count nothing: the count is the calls stored with origin reconcile');

SELECT * FROM finish();
ROLLBACK;
