-- The rule table of the lead rules and the ingest upsert, at the SQL level
-- (pgTAP). Run by tests/integration/test_sql.py in one transaction that is
-- rolled back.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SET client_min_messages = warning;
TRUNCATE call_revisions, recordings, tasks, calls, leads, agents, dead_letters, sources
    RESTART IDENTITY CASCADE;
SELECT plan(51);

INSERT INTO sources (name, auth_mode, default_responsible) VALUES ('pbx', 'none', 'boss');
INSERT INTO agents (source_id, extension, crm_user) VALUES (1, '1002', 'eva@crm');

-- One push: the call id, direction, disposition, caller, callee, start;
-- the rest optional. Returns the outcome.
CREATE FUNCTION pg_temp.push(p_id text, p_dir text, p_disp text, p_caller text, p_callee text,
                             p_start text, p_agent text DEFAULT NULL, p_leg text DEFAULT NULL,
                             p_did text DEFAULT NULL, p_dur integer DEFAULT NULL,
                             p_bill integer DEFAULT NULL, p_raw jsonb DEFAULT NULL,
                             p_name text DEFAULT NULL, p_transport text[] DEFAULT '{}')
RETURNS text LANGUAGE sql AS $$
    SELECT outcome FROM ringlog_ingest_call(
        1, p_id, p_dir, p_disp, p_caller, CASE WHEN p_caller ~ '^[1-9][0-9]{6,14}$' THEN p_caller END,
        p_name, p_callee, CASE WHEN p_callee ~ '^[1-9][0-9]{6,14}$' THEN p_callee END, p_did,
        p_agent, NULL, p_start, NULL, NULL, 'UTC', p_dur, p_bill, '[]',
        coalesce(p_raw, jsonb_build_object('id', p_id, 'disp', p_disp)), now(), p_leg, p_transport)
$$;

-- The other party.
SELECT is(ringlog_other_party('in', '972501', '972502', NULL), '972501', 'inbound: the caller');
SELECT is(ringlog_other_party('out', '972501', '972502', NULL), '972502', 'outbound: the callee');
SELECT is(ringlog_other_party('internal', '972501', '972502', NULL), NULL, 'internal: nobody');
SELECT is(ringlog_other_party('in', '972501', '972502', 'a-leg'), NULL, 'a leg: nobody');

-- A new caller: a lead, named by the caller, for the agent who answered.
SELECT is(pg_temp.push('c1', 'in', 'answered', '972528812345', '1002', '2025-06-16 09:00:00+00',
                       '1002', p_name => 'Moshe'), 'stored', 'new caller: stored');
SELECT is((SELECT count(*)::int FROM leads WHERE phone = '972528812345'), 1, 'new caller: one lead');
SELECT is((SELECT name || ' ' || responsible || ' ' || origin FROM leads), 'Moshe eva@crm ringlog',
          'new caller: named by the caller, the answering agent''s CRM user, origin ringlog');
SELECT is((SELECT lead_id FROM calls WHERE pbx_call_id = 'c1'), 1::bigint, 'new caller: linked');

-- A known lead: linked, nothing created.
SELECT is(pg_temp.push('c2', 'in', 'answered', '972528812345', '1002', '2025-06-16 10:00:00+00', '1002'),
          'stored', 'known lead: stored');
SELECT is((SELECT count(*)::int FROM leads), 1, 'known lead: no second lead');
SELECT is((SELECT lead_id FROM calls WHERE pbx_call_id = 'c2'), 1::bigint, 'known lead: linked');

-- Missed, then answered: a task, then closed.
SELECT is(pg_temp.push('c3', 'in', 'missed', '972540000001', NULL, '2025-06-16 11:00:00+00'),
          'stored', 'missed: stored');
SELECT is((SELECT assignee FROM tasks WHERE kind = 'missed_call' AND status = 'open'), 'boss',
          'missed: an open task for the default responsible');
SELECT is(pg_temp.push('c4', 'in', 'missed', '972540000001', NULL, '2025-06-16 11:05:00+00'),
          'stored', 'missed again');
SELECT is((SELECT count(*)::int FROM tasks WHERE kind = 'missed_call'), 1, 'one open task per lead');
SELECT is(pg_temp.push('c5', 'in', 'answered', '972540000001', '1002', '2025-06-16 11:10:00+00', '1002'),
          'stored', 'answered later');
SELECT is((SELECT status FROM tasks WHERE kind = 'missed_call'), 'done', 'the answer closes the task');

-- Legs: stored, never linked, never a task.
SELECT is(pg_temp.push('c6-b', 'in', 'missed', '972550000002', NULL, '2025-06-16 12:00:00+00',
                       p_leg => 'c6'), 'stored', 'leg: stored');
SELECT is((SELECT lead_id FROM calls WHERE pbx_call_id = 'c6-b'), NULL, 'leg: no lead');
SELECT is((SELECT count(*)::int FROM leads WHERE phone = '972550000002'), 0, 'leg: no lead created');
SELECT is((SELECT count(*)::int FROM tasks WHERE call_id = (SELECT id FROM calls WHERE pbx_call_id = 'c6-b')),
          0, 'leg: no task');

-- In progress, then final.
SELECT is(pg_temp.push('c7', 'in', 'in_progress', '972560000003', NULL, '2025-06-16 13:00:00+00'),
          'stored', 'in progress: stored');
SELECT is((SELECT count(*)::int FROM leads WHERE phone = '972560000003'), 0, 'in progress: no lead yet');
SELECT is(pg_temp.push('c7', 'in', 'answered', '972560000003', '1002', '2025-06-16 13:00:00+00', '1002',
                       p_dur => 70, p_bill => 60), 'updated', 'final: updated');
SELECT isnt((SELECT lead_id FROM calls WHERE pbx_call_id = 'c7'), NULL, 'final: linked to a new lead');
SELECT is(pg_temp.push('c7', 'in', 'in_progress', '972560000003', NULL, '2025-06-16 13:00:00+00'),
          'ignored', 'a late in-progress push is ignored');

-- Only durations: the times follow (Voicenter, Ringostat).
SELECT is((SELECT (answered_at, ended_at)::text FROM calls WHERE pbx_call_id = 'c7'),
          ('2025-06-16 13:00:10+00'::timestamptz, '2025-06-16 13:01:10+00'::timestamptz)::text,
          'durations: answered = end - billable, ended = start + duration');

-- A re-push never erases what was known; only a value that differs changes.
SELECT is(pg_temp.push('c8', 'in', 'answered', '972570000004', '1002', '2025-06-16 14:00:00+00', '1002',
                       p_did => '97235551234', p_raw => '{"id": "c8", "did": "97235551234"}'),
          'stored', 'with a DID');
SELECT is(pg_temp.push('c8', 'in', 'answered', '972570000004', '1002', '2025-06-16 14:00:00+00', '1002',
                       p_raw => '{"_csv": ["c8"]}'), 'updated', 'another payload without the DID');
SELECT is((SELECT did FROM calls WHERE pbx_call_id = 'c8'), '97235551234', 'the DID stays');
SELECT is(pg_temp.push('c8', 'in', 'answered', '972570000004', '1002', '2025-06-16 14:00:00+00', '1002',
                       p_raw => '{"_csv": ["c8"], "uuid": "x"}', p_transport => '{uuid}'),
          'duplicate', 'a transport parameter is not content');

-- The same rules through the batch path (ringlog_ingest_calls with new
-- calls stored set-based): a batch of four calls.
SELECT is(pg_temp.push('b0', 'in', 'missed', '972590000010', NULL, '2025-06-17 08:00:00+00'),
          'stored', 'batch: an earlier missed call of a number');
SELECT is((SELECT string_agg(idx || ':' || outcome, ',' ORDER BY idx) FROM ringlog_ingest_calls(
    jsonb_build_array(
        '{"source_id": 1, "call_id": "b1", "direction": "in", "disposition": "answered",
          "caller": "972590000011", "caller_e164": "972590000011", "caller_name": "Rina",
          "callee": "1002", "agent": "1002", "started_at": "2025-06-17 09:00:00+00",
          "time_zone": "UTC", "received_at": "2025-06-17 10:00:00+00", "duration_s": 70, "billable_s": 60, "raw": {"id": "b1"}}'::jsonb,
        '{"source_id": 1, "call_id": "b2", "direction": "in", "disposition": "busy",
          "caller": "972590000012", "caller_e164": "972590000012",
          "started_at": "2025-06-17 09:01:00+00", "time_zone": "UTC", "received_at": "2025-06-17 10:00:00+00", "raw": {"id": "b2"}}'::jsonb,
        '{"source_id": 1, "call_id": "b3", "direction": "out", "disposition": "answered",
          "caller": "1099", "agent": "1099", "callee": "972590000013", "callee_e164": "972590000013",
          "started_at": "2025-06-17 09:02:00+00", "time_zone": "UTC", "received_at": "2025-06-17 10:00:00+00", "raw": {"id": "b3"}}'::jsonb,
        '{"source_id": 1, "call_id": "b4", "direction": "in", "disposition": "answered",
          "caller": "972590000010", "caller_e164": "972590000010", "agent": "1002",
          "started_at": "2025-06-17 09:03:00+00", "time_zone": "UTC", "received_at": "2025-06-17 10:00:00+00", "raw": {"id": "b4"}}'::jsonb))),
    '1:stored,2:stored,3:stored,4:stored', 'batch: four new calls stored');
SELECT is((SELECT name || ' ' || responsible FROM leads WHERE phone = '972590000011'), 'Rina eva@crm',
          'batch: a new caller''s lead, named by the caller, for the answering agent''s user');
SELECT is((SELECT ended_at - started_at || ' ' || (ended_at - answered_at) FROM calls
            WHERE pbx_call_id = 'b1'), '00:01:10 00:01:00', 'batch: times derived from durations');
SELECT is((SELECT l.name || ' ' || t.assignee FROM tasks t JOIN leads l ON l.id = t.lead_id
            WHERE t.kind = 'missed_call' AND t.status = 'open' AND l.phone = '972590000012'),
          '+972590000012 boss', 'batch: a missed call, a lead named by its number, a task');
SELECT is((SELECT count(*)::int FROM tasks WHERE kind = 'check_agent_mapping' AND extension = '1099'
              AND status = 'open' AND assignee = 'boss'), 1, 'batch: an unmapped agent, a settings task');
SELECT is((SELECT t.status FROM tasks t JOIN leads l ON l.id = t.lead_id
            WHERE l.phone = '972590000010'), 'done', 'batch: the answer closes the earlier missed call''s task');

-- One number several times in a batch, out of order: one lead, every call
-- linked, and the tasks as if the calls had come in the order they started.
CREATE FUNCTION pg_temp.call(p_id text, p_disp text, p_caller text, p_start text) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_object('source_id', 1, 'call_id', p_id, 'direction', 'in',
                              'disposition', p_disp, 'caller', p_caller, 'caller_e164', p_caller,
                              'started_at', p_start, 'time_zone', 'UTC',
                              'received_at', '2025-06-18 12:00:00+00', 'raw', jsonb_build_object('id', p_id))
$$;
SELECT is((SELECT string_agg(outcome, ',') FROM ringlog_ingest_calls(jsonb_build_array(
    pg_temp.call('m3', 'missed', '972590000020', '2025-06-18 10:10:00+00'),
    pg_temp.call('m1', 'missed', '972590000020', '2025-06-18 10:00:00+00'),
    pg_temp.call('m2', 'answered', '972590000020', '2025-06-18 10:05:00+00'),
    pg_temp.call('n2', 'answered', '972590000021', '2025-06-18 11:05:00+00'),
    pg_temp.call('n1', 'missed', '972590000021', '2025-06-18 11:00:00+00')))),
    'stored,stored,stored,stored,stored', 'batch: two numbers, several calls each');
SELECT is((SELECT count(*)::int FROM leads WHERE phone = '972590000020'), 1, 'batch: one lead per number');
SELECT is((SELECT count(*)::int FROM calls c JOIN leads l ON l.id = c.lead_id
            WHERE c.pbx_call_id IN ('m1', 'm2', 'm3')), 3, 'batch: every call of the number linked');
SELECT is((SELECT string_agg(c.pbx_call_id || ' ' || t.status, ',') FROM tasks t JOIN calls c ON c.id = t.call_id
            JOIN leads l ON l.id = t.lead_id WHERE l.phone = '972590000020'),
          'm3 open', 'batch: the missed call after the answer keeps its task open');
SELECT is((SELECT string_agg(c.pbx_call_id || ' ' || t.status, ',') FROM tasks t JOIN calls c ON c.id = t.call_id
            JOIN leads l ON l.id = t.lead_id WHERE l.phone = '972590000021'),
          'n1 done', 'batch: a missed call answered later: its task is done');

-- One by one, the same: an answer pushed before the missed call it followed.
SELECT is(pg_temp.push('o2', 'in', 'answered', '972590000022', '1002', '2025-06-18 12:05:00+00', '1002'),
          'stored', 'one by one: the answer first');
SELECT is(pg_temp.push('o1', 'in', 'missed', '972590000022', NULL, '2025-06-18 12:00:00+00'),
          'stored', 'then the missed call before it');
SELECT is((SELECT string_agg(c.pbx_call_id || ' ' || t.status, ',') FROM tasks t JOIN calls c ON c.id = t.call_id
            JOIN leads l ON l.id = t.lead_id WHERE l.phone = '972590000022'),
          'o1 done', 'one by one: a missed call answered later: its task is done');

-- The upsert of leads (CRM sync, lead add, lead import).
SELECT is((SELECT outcome || ' ' || linked_calls FROM ringlog_upsert_leads(
               '[{"phone": "972550000002", "crm_id": "crm-7"}]')), 'created 0',
          'a lead for a number heard only on a leg links no call');
SELECT is((SELECT lead_id FROM calls WHERE pbx_call_id = 'c6-b'), NULL, 'the leg stays unlinked');
UPDATE sources SET create_leads = false;
SELECT is(pg_temp.push('c9', 'out', 'answered', '1002', '972580000005', '2025-06-16 15:00:00+00'),
          'stored', 'a call of a source that creates no leads');
SELECT is((SELECT outcome || ' ' || linked_calls FROM ringlog_upsert_leads(
               '[{"phone": "972580000005", "name": "Dana"}]')), 'created 1',
          'a new lead takes the earlier calls of its number');
SELECT is((SELECT string_agg(outcome, ',') FROM ringlog_upsert_leads(
               '[{"phone": "972580000005", "name": "Dana"}, {"crm_id": "crm-7", "name": "Avi"}]')),
          'unchanged,updated', 'the same again is unchanged; one item per row, in order');

SELECT * FROM finish();
ROLLBACK;
