-- 003: leads, agents and tasks. The lead rules run inside the one-statement
-- ingest; FreeSWITCH's other legs are kept apart; screen-pop events of calls
-- in progress are recorded for a live view.

-- Screen pop of an unknown caller: the CRM's "new contact" page, with
-- {phone} (as the PBX sent it) and {e164} replaced.
ALTER TABLE sources ADD COLUMN crm_new_url_template text;

-- Another leg of a call (FreeSWITCH posts one CDR per channel leg): the PBX
-- call id of the call it belongs to. A leg is stored, never linked to a lead
-- and never the subject of a task.
ALTER TABLE calls ADD COLUMN leg_of pbx_call_id;
CREATE INDEX calls_leg_of ON calls (source_id, leg_of) WHERE leg_of IS NOT NULL;

-- Smart forwarding: a CRM user's extension on a source.
CREATE INDEX agents_crm_user ON agents (source_id, crm_user);

-- The source and extension a check_agent_mapping task is about.
ALTER TABLE tasks ADD COLUMN source_id bigint REFERENCES sources (id) ON DELETE CASCADE,
                  ADD COLUMN extension text;
-- A lead's missed-call tasks: one open at a time, closed by an answered call.
CREATE INDEX tasks_missed_call ON tasks (lead_id, call_id) WHERE kind = 'missed_call';
CREATE INDEX tasks_agent_mapping ON tasks (source_id, extension)
    WHERE kind = 'check_agent_mapping' AND status = 'open';

-- What screen pops and ringing stations tell about calls in progress
-- (Voicenter's Ringing once per ringing station, Talking, Hangup), for a
-- live view of calls (GET /v1/calls/live). Ringing creates nothing else.
-- ringlog-ingestd answers the screen pop first and writes its events in
-- batches (every 200 ms, one statement), so they cost the look-up nothing.
-- UNLOGGED: no WAL is written, so recording events never waits for a WAL
-- flush; a crash empties the table, which a live view can bear. No foreign
-- key: its check would lock the source's row on every batch. ringlog-ingestd
-- deletes events older than [ingest] events_keep.
CREATE UNLOGGED TABLE call_events (
    source_id   bigint NOT NULL,
    pbx_call_id text,                        -- Voicenter's ivrid
    status      text NOT NULL,               -- ringing, talking, hangup, … (lower case)
    phone       text,                        -- the caller as sent
    phone_e164  text,
    caller_name text,
    agent       text,                        -- the station asked (extenUser)
    did         text,
    direction   text,
    lead_id     bigint,                      -- the lead the screen pop showed
    at          timestamptz NOT NULL         -- when the screen pop arrived
);
CREATE INDEX call_events_call ON call_events (source_id, pbx_call_id, at);
CREATE INDEX call_events_at ON call_events USING brin (at);

-- The lead rules themselves live in sql/functions/ (ringlog_ingest_call and
-- the ringlog_lead_* functions).
