-- Webhook events of tasks (sql/035): task.created when a task is opened,
-- task.done when an open one is done (an answered call, the API, the page).
CREATE OR REPLACE FUNCTION ringlog_outbox_tasks() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE state <> 'disabled') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO webhook_events (webhook_id, type, object_id, lead_id)
        SELECT w.id, 'task.created', n.id, n.lead_id
          FROM new_rows n
          JOIN webhooks w ON w.state <> 'disabled' AND 'task.created' = ANY (w.events)
                         AND (w.source_id IS NULL OR w.source_id = n.source_id)
         ORDER BY n.id, w.id;
    ELSE
        INSERT INTO webhook_events (webhook_id, type, object_id, lead_id)
        SELECT w.id, 'task.done', n.id, n.lead_id
          FROM new_rows n
          JOIN old_rows o ON o.id = n.id AND o.status = 'open'
          JOIN webhooks w ON w.state <> 'disabled' AND 'task.done' = ANY (w.events)
                         AND (w.source_id IS NULL OR w.source_id = n.source_id)
         WHERE n.status = 'done'
         ORDER BY n.id, w.id;
    END IF;
    RETURN NULL;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER tasks_outbox_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_outbox_tasks();
CREATE OR REPLACE TRIGGER tasks_outbox_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_outbox_tasks();
