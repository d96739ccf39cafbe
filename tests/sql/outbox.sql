-- The webhook outbox (sql/035, sql/functions/ringlog_outbox_*.sql): which
-- writes make which events, for which subscriptions, in the writing
-- transaction. Rolled back.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SET client_min_messages = warning;
TRUNCATE call_revisions, recordings, tasks, calls, call_keys, leads, agents, dead_letters, sources,
    webhooks, webhook_events RESTART IDENTITY CASCADE;
SELECT plan(12);

INSERT INTO sources (name, auth_mode) VALUES ('pbx', 'none'), ('other', 'none');

CREATE FUNCTION pg_temp.push(p_id text, p_disposition text, p_raw jsonb,
                             p_recordings jsonb DEFAULT '[]', p_source bigint DEFAULT 1)
RETURNS text LANGUAGE sql AS $$
    SELECT outcome FROM ringlog_ingest_call(
        p_source, p_id, 'in', p_disposition, '06301234567', '36301234567', NULL, '1002', NULL, NULL,
        NULL, NULL, '2025-06-16 09:00:00+00', NULL, NULL, 'UTC', 60, 50, p_recordings, p_raw, now(), NULL)
$$;
CREATE FUNCTION pg_temp.events() RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(w.name || ':' || e.type ORDER BY e.id), '{}')
      FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id
$$;

SELECT is(pg_temp.push('c0', 'answered', '{"n":0}'), 'stored', 'a push with no subscription');
SELECT is((SELECT count(*) FROM webhook_events), 0::bigint, 'no subscription: no event rows');

INSERT INTO webhooks (name, url, events, secret)
VALUES ('all', 'https://crm.example/h', ARRAY['call.stored', 'call.updated', 'call.missed', 'lead.created',
        'task.created', 'task.done', 'recording.ready', 'recording.failed'], decode(repeat('ab', 32), 'hex')),
       ('other', 'https://crm.example/o', ARRAY['call.stored'], decode(repeat('cd', 32), 'hex')),
       ('off', 'https://crm.example/x', ARRAY['call.stored'], decode(repeat('ef', 32), 'hex'));
UPDATE webhooks SET source_id = 2 WHERE name = 'other';
UPDATE webhooks SET state = 'disabled' WHERE name = 'off';
DELETE FROM webhook_events;

SELECT is(pg_temp.push('c1', 'missed', '{"n":1}', '[{"ref":"r1"},{"ref":"r2"}]'), 'stored', 'a missed call');
SELECT is(pg_temp.events(), ARRAY['all:call.stored', 'all:call.missed', 'all:task.created'],
          'a missed call of a known lead: stored, missed, its task; for the subscription of every source only');
SELECT is((SELECT array_agg(lead_id ORDER BY id) FROM webhook_events), ARRAY[1::bigint, 1, 1],
          'events carry the lead they are ordered by');
DELETE FROM webhook_events;

UPDATE recordings SET state = 'stored', blob_key = repeat('a', 64), size_bytes = 10 WHERE position = 0;
UPDATE recordings SET state = 'failed', last_error = 'gone' WHERE position = 1;
UPDATE recordings SET attempts = attempts + 1;
SELECT is(pg_temp.events(), ARRAY['all:recording.ready', 'all:recording.failed'],
          'recordings: stored and failed once each; other updates make nothing');
SELECT is((SELECT array_agg(recording_id ORDER BY id) FROM webhook_events), ARRAY[1::bigint, 2],
          'a recording event names its recording');
DELETE FROM webhook_events;

SELECT is(pg_temp.push('c1', 'answered', '{"n":2}'), 'updated', 'the call again, answered');
SELECT is(pg_temp.events(), ARRAY['all:call.updated', 'all:task.done'],
          'a re-push: call.updated; the answered call closes the missed-call task: task.done');
DELETE FROM webhook_events;

SELECT is(pg_temp.push('c2', 'answered', '{"n":3}', '[]', 2), 'stored', 'a call of the other source');
SELECT is(pg_temp.events(), ARRAY['all:call.stored', 'other:call.stored'],
          'the source filter, and nothing for a disabled subscription');
DELETE FROM webhook_events;

SAVEPOINT s;
INSERT INTO leads (phone, name) VALUES ('36309999999', 'x');
ROLLBACK TO s;
SELECT is(pg_temp.events(), '{}'::text[], 'a rolled-back write leaves no event');

SELECT * FROM finish();
ROLLBACK;
