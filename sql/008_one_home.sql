-- 008: every function has one home (sql/functions/, applied by `ringlog
-- migrate` after these files); what grows with years of calls is indexed
-- for each filter of the call log and can expire per source.

-- 007's wrapper kept the old body under another name; the rule now lives
-- in sql/functions/ringlog_upsert_lead.sql.
DROP FUNCTION IF EXISTS ringlog_upsert_lead_unlocked(jsonb);

-- How long a source's calls, recordings and dead letters are kept (`ringlog
-- source update S --keep-calls 400d`); NULL: the [maintain] defaults of the
-- config, which keep everything unless set.
ALTER TABLE sources
    ADD COLUMN keep_calls interval CHECK (keep_calls > interval '0'),
    ADD COLUMN keep_recordings interval CHECK (keep_recordings > interval '0'),
    ADD COLUMN keep_dead_letters interval CHECK (keep_dead_letters > interval '0');

-- The call log's filters in keyset order: one source, one agent (a rare
-- agent walked the whole calls_started index). Retention deletes by source
-- and start with the first.
CREATE INDEX calls_source_started ON calls (source_id, started_at DESC, id DESC);
CREATE INDEX calls_agent_started ON calls (agent, started_at DESC, id DESC) WHERE agent IS NOT NULL;
-- Dead letters by age, whatever their status (retention).
CREATE INDEX dead_letters_received ON dead_letters (received_at);
