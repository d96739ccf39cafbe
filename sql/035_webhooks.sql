-- Webhooks (issue 14): the CRM's subscriptions and the outbox of events
-- written by triggers in the transaction of the change that causes them.
-- The triggers and their functions live in sql/functions/ringlog_outbox_*.sql
-- (applied after the numbered files, in the same transaction).

CREATE TABLE webhooks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    url              text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
    events           text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY[
                         'call.stored', 'call.updated', 'call.missed', 'lead.created',
                         'task.created', 'task.done', 'recording.ready', 'recording.failed']),
    source_id        bigint REFERENCES sources (id) ON DELETE CASCADE,
    -- The signing key (the bytes behind "whsec_"): needed to sign, so kept;
    -- never shown again after `webhook add` / `rotate-secret`.
    secret           bytea NOT NULL CHECK (octet_length(secret) BETWEEN 24 AND 64),
    -- During a rotation the old key signs too, until old_secret_until.
    old_secret       bytea CHECK (octet_length(old_secret) BETWEEN 24 AND 64),
    old_secret_until timestamptz,
    -- active: delivered; paused: failing for hours (resume by hand or it is
    -- probed again after pause_until); disabled: the endpoint answered 410.
    state            text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'disabled')),
    state_reason     text,
    pause_until      timestamptz,
    failing_since    timestamptz,
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per (event, subscription). Its id is the stable
-- webhook-id ("msg_<id>"). body is rendered once, at the first attempt, so
-- every retry sends the same bytes.
CREATE TABLE webhook_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    type            text NOT NULL,
    object_id       bigint NOT NULL,   -- the call, lead or task; the call of a recording
    recording_id    bigint,
    lead_id         bigint,            -- events of one lead (per subscription) go in order
    occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed', 'dropped')),
    body            text,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_status     integer,
    last_error      text,
    last_attempt_at timestamptz,
    delivered_at    timestamptz
);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_events_lead ON webhook_events (webhook_id, lead_id, id)
    WHERE state = 'pending' AND lead_id IS NOT NULL;
-- (`webhook deliveries` walks the primary key backwards: no index of its
-- own for every insert to keep.)
CREATE INDEX webhook_events_failed ON webhook_events (occurred_at) WHERE state = 'failed';
-- What fetcherd's sweep deletes once webhook_keep has passed.
CREATE INDEX webhook_events_done ON webhook_events (occurred_at) WHERE state IN ('delivered', 'dropped');
