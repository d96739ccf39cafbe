-- Webhook events of calls (sql/035), written in the transaction that
-- stores the call: call.stored for a new call, call.updated for a call whose
-- content changed (a re-push, its lead), call.missed for an inbound call
-- that is (or became) missed: not answered, not in progress (the rule that
-- opens a missed-call task). One row per subscription that wants the type
-- (and the call's source, when it names one). Statement trigger: a bulk
-- insert pays once; with no live subscription it costs one index probe.
CREATE OR REPLACE FUNCTION ringlog_outbox_calls() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE state <> 'disabled') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO webhook_events (webhook_id, type, object_id, lead_id)
        SELECT w.id, t.type, n.id, n.lead_id
          FROM new_rows n
         CROSS JOIN LATERAL (VALUES ('call.stored'),
                                    (CASE WHEN n.direction = 'in'
                                           AND n.disposition NOT IN ('answered', 'in_progress')
                                          THEN 'call.missed' END)) AS t(type)
          JOIN webhooks w ON w.state <> 'disabled' AND t.type = ANY (w.events)
                         AND (w.source_id IS NULL OR w.source_id = n.source_id)
         ORDER BY n.id, t.type DESC, w.id;
    ELSE
        INSERT INTO webhook_events (webhook_id, type, object_id, lead_id)
        SELECT w.id, t.type, n.id, n.lead_id
          FROM new_rows n
          JOIN old_rows o ON o.id = n.id
         CROSS JOIN LATERAL (VALUES ('call.updated'),
                                    (CASE WHEN n.direction = 'in'
                                           AND n.disposition NOT IN ('answered', 'in_progress')
                                           AND (o.direction <> 'in'
                                                OR o.disposition IN ('answered', 'in_progress'))
                                          THEN 'call.missed' END)) AS t(type)
          JOIN webhooks w ON w.state <> 'disabled' AND t.type = ANY (w.events)
                         AND (w.source_id IS NULL OR w.source_id = n.source_id)
         WHERE n.revision <> o.revision OR n.lead_id IS DISTINCT FROM o.lead_id
            OR n.disposition <> o.disposition
         ORDER BY n.id, t.type DESC, w.id;
    END IF;
    RETURN NULL;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER calls_outbox_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_outbox_calls();
CREATE OR REPLACE TRIGGER calls_outbox_update AFTER UPDATE ON calls
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_outbox_calls();
