-- The CPU cost of ringlog_ingest_call() per push, without the commit: 4000
-- calls in one statement, rolled back, for each shape of push the lead
-- rules tell apart. Run it before and after a change to the function:
--   psql "$DB" -v legarg=', NULL' -f bench/sql/ingest_function_cost.sql
-- (legarg: the trailing argument(s) the current signature takes after
-- p_received_at; empty for 002's). Prints µs per push for each case.
\set QUIET on
\pset footer off
SET client_min_messages = warning;
-- Earlier runs left dead tuples behind (everything is rolled back).
VACUUM calls, leads, tasks, recordings, call_revisions;
INSERT INTO sources (name, auth_mode, default_responsible)
VALUES ('fncost', 'none', 'boss') ON CONFLICT (name) DO NOTHING;
CREATE TEMP TABLE fncost_raw AS SELECT :'raw'::jsonb AS raw;
CREATE TEMP TABLE fncost (name text, us numeric);
SELECT set_config('fncost.legarg', :'legarg', false) \gset

CREATE TEMP TABLE fncost_cases (name text, direction text, disposition text, phone text, agent text);
INSERT INTO fncost_cases VALUES
  ('known lead, answered in', 'in', 'answered', 'known', '231'),
  ('new caller, answered in', 'in', 'answered', 'new', '231'),
  ('new caller, missed in', 'in', 'missed', 'new', NULL),
  ('known lead, missed in', 'in', 'missed', 'known', NULL),
  ('extension only (internal)', 'internal', 'answered', 'none', '231');
INSERT INTO leads (phone, name) VALUES ('12020012345', 'known') ;

DO $$
DECLARE c record; t0 timestamptz; t1 timestamptz; best numeric; n int := 4000;
BEGIN
  FOR c IN SELECT * FROM fncost_cases LOOP
    best := NULL;
    FOR rep IN 1..3 LOOP
      t0 := clock_timestamp();
      BEGIN
        EXECUTE format($q$
          SELECT count(*) FROM generate_series(1, %s) g,
          LATERAL ringlog_ingest_call(
            (SELECT id FROM sources WHERE name = 'fncost'), 'fn-%s-%s-' || g, %L, %L,
            CASE %L WHEN 'none' THEN '1002' ELSE '+1202' || lpad((CASE %L WHEN 'known' THEN 12345 ELSE 5000000 + g END)::text, 7, '0') END,
            CASE %L WHEN 'none' THEN NULL ELSE '1202' || lpad((CASE %L WHEN 'known' THEN 12345 ELSE 5000000 + g END)::text, 7, '0') END,
            'CALLER', CASE %L WHEN 'none' THEN '1003' ELSE '+18005550100' END,
            CASE %L WHEN 'none' THEN NULL ELSE '18005550100' END, NULL,
            %L, 'Agent', '2025-06-16 09:00:00+00', '2025-06-16 09:00:20+00',
            '2025-06-16 09:10:20+00', 'UTC', 620, 600,
            '[{"ref":"rec_1","url":"https://recordings.example.invalid/v1/rec_1.mp3"}]',
            (SELECT raw FROM fncost_raw), now() %s)$q$,
          n, extract(epoch FROM clock_timestamp()) * 1e6, rep, c.direction, c.disposition, c.phone, c.phone, c.phone, c.phone, c.phone, c.phone,
          c.agent, current_setting('fncost.legarg'));
        RAISE EXCEPTION 'rollback' USING ERRCODE = 'P0001';
      EXCEPTION WHEN sqlstate 'P0001' THEN NULL;
      END;
      t1 := clock_timestamp();
      best := least(coalesce(best, 1e12), extract(epoch FROM t1 - t0) * 1e6 / n);
    END LOOP;
    INSERT INTO fncost VALUES (c.name, round(best, 1));
  END LOOP;
END $$;
SELECT name AS "case", us AS "µs per push (best of 3)" FROM fncost;
DELETE FROM leads WHERE phone = '12020012345' AND name = 'known';
