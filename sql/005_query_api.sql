-- 005: what ringlog-fetcherd's query API needs: indexes for the call log's
-- filters in keyset order, the CSV export as one function (the daemon and
-- psql run the same query), lead upserts from the CRM, and small helpers.

-- The call log of one number, newest first, in keyset order; these replace
-- 001's single-column indexes, which they cover.
CREATE INDEX calls_caller_started ON calls (caller_e164, started_at DESC, id DESC)
    WHERE caller_e164 IS NOT NULL;
CREATE INDEX calls_callee_started ON calls (callee_e164, started_at DESC, id DESC)
    WHERE callee_e164 IS NOT NULL;
DROP INDEX calls_caller;
DROP INDEX calls_callee;
-- Leads of a number, open or closed (001's index holds only open ones).
CREATE INDEX leads_phone ON leads (phone);
CREATE INDEX tasks_lead ON tasks (lead_id) WHERE lead_id IS NOT NULL;

-- The length of the audio, when whoever stores it can tell (NULL: unknown).
ALTER TABLE recordings ADD COLUMN IF NOT EXISTS duration_s integer CHECK (duration_s >= 0);

-- The export, the lead upsert and the helpers: sql/functions/.
