-- Webhook events of recordings (sql/035): recording.ready when a recording
-- becomes stored (inline in a push, fetched, prefetched), recording.failed
-- when fetching it failed for good. The event's object is the call (as
-- GET /v1/calls/{id} shows it, with the recording in "recordings").
CREATE OR REPLACE FUNCTION ringlog_outbox_recordings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Most writes are neither (a remote reference, a fetch's lease): out
    -- before anything else.
    IF NOT EXISTS (SELECT 1 FROM new_rows WHERE state IN ('stored', 'failed'))
       OR NOT EXISTS (SELECT 1 FROM webhooks WHERE state <> 'disabled') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO webhook_events (webhook_id, type, object_id, recording_id, lead_id)
        SELECT w.id, 'recording.' || CASE n.state WHEN 'stored' THEN 'ready' ELSE 'failed' END,
               n.call_id, n.id, k.lead_id
          FROM new_rows n
          JOIN call_keys ck ON ck.call_id = n.call_id
          LEFT JOIN calls k ON k.id = n.call_id AND k.started_at = ck.started_at
          JOIN webhooks w ON w.state <> 'disabled'
                         AND ('recording.' || CASE n.state WHEN 'stored' THEN 'ready' ELSE 'failed' END)
                             = ANY (w.events)
                         AND (w.source_id IS NULL OR w.source_id = ck.source_id)
         WHERE n.state IN ('stored', 'failed')
         ORDER BY n.id, w.id;
    ELSE
        INSERT INTO webhook_events (webhook_id, type, object_id, recording_id, lead_id)
        SELECT w.id, 'recording.' || CASE n.state WHEN 'stored' THEN 'ready' ELSE 'failed' END,
               n.call_id, n.id, k.lead_id
          FROM new_rows n
          JOIN old_rows o ON o.id = n.id AND o.state IS DISTINCT FROM n.state
          JOIN call_keys ck ON ck.call_id = n.call_id
          LEFT JOIN calls k ON k.id = n.call_id AND k.started_at = ck.started_at
          JOIN webhooks w ON w.state <> 'disabled'
                         AND ('recording.' || CASE n.state WHEN 'stored' THEN 'ready' ELSE 'failed' END)
                             = ANY (w.events)
                         AND (w.source_id IS NULL OR w.source_id = ck.source_id)
         WHERE n.state IN ('stored', 'failed')
         ORDER BY n.id, w.id;
    END IF;
    RETURN NULL;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER recordings_outbox_insert AFTER INSERT ON recordings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_outbox_recordings();
CREATE OR REPLACE TRIGGER recordings_outbox_update AFTER UPDATE ON recordings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_outbox_recordings();
