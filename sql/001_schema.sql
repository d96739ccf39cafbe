-- 001: the data model of DESIGN.md. Every enumerated column has a CHECK,
-- every time is timestamptz, every link is a foreign key.
--
-- The CHECKs of the hot tables (calls, recordings) live in domains: a
-- table's CHECK expressions are re-read from the catalog on every statement
-- that writes the table (20% of a push's database time, measured), while a
-- domain's are parsed once per connection and cached. Same rules, one cost.

CREATE DOMAIN e164 AS text CHECK (VALUE ~ '^[1-9][0-9]{6,14}$'); -- E.164 digits, no '+'
CREATE DOMAIN call_direction AS text CHECK (VALUE IN ('in', 'out', 'internal'));
CREATE DOMAIN call_disposition AS text
    CHECK (VALUE IN ('answered', 'missed', 'busy', 'failed', 'voicemail', 'in_progress'));
CREATE DOMAIN pbx_call_id AS text CHECK (length(VALUE) BETWEEN 1 AND 256);
CREATE DOMAIN seconds AS integer CHECK (VALUE >= 0);
CREATE DOMAIN non_negative AS bigint CHECK (VALUE >= 0);
CREATE DOMAIN sha256 AS bytea CHECK (octet_length(VALUE) = 32);
CREATE DOMAIN recording_state AS text CHECK (VALUE IN ('remote', 'stored', 'failed'));
CREATE DOMAIN sha256_hex AS text CHECK (VALUE ~ '^[0-9a-f]{64}$');

-- One PBX account pushing to us.
CREATE TABLE sources (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL UNIQUE
                        CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    vendor              text NOT NULL DEFAULT 'generic'
                        CHECK (vendor IN ('generic', 'voicenter', 'ringostat',
                                          'freeswitch', 'asterisk', 'custom')),
    -- How the PBX proves itself: HTTP Basic, an X-Api-Key header, a key=
    -- query parameter, any of the three, or nothing (loopback demos only).
    auth_mode           text NOT NULL DEFAULT 'any'
                        CHECK (auth_mode IN ('any', 'basic', 'header', 'query', 'none')),
    auth_user           text,
    secret_sha256       bytea CHECK (octet_length(secret_sha256) = 32),
    -- Zone of naive timestamps; an unknown name fails this check.
    time_zone           text NOT NULL DEFAULT 'UTC'
                        CHECK ((timestamptz '2000-01-01 00:00:00+00' AT TIME ZONE time_zone) IS NOT NULL),
    country_code        text NOT NULL DEFAULT '' CHECK (country_code ~ '^([1-9][0-9]{0,2})?$'),
    trunk_prefix        text NOT NULL DEFAULT '0' CHECK (trunk_prefix ~ '^[0-9]{0,3}$'),
    international_prefix text NOT NULL DEFAULT '00' CHECK (international_prefix ~ '^[0-9]{0,4}$'),
    -- A custom field mapping (JSON paths -> canonical fields), for any PBX.
    mapping             jsonb CHECK (mapping IS NULL OR jsonb_typeof(mapping) = 'object'),
    -- How to fetch its recordings.
    fetch_url_template  text,
    fetch_auth          text NOT NULL DEFAULT 'none'
                        CHECK (fetch_auth IN ('none', 'basic', 'query', 'header')),
    fetch_user          text,
    fetch_secret        text,
    fetch_header        text,
    fetch_allow_hosts   text[] NOT NULL DEFAULT '{}',
    -- Lead rules.
    create_leads        boolean NOT NULL DEFAULT true,
    default_responsible text,
    crm_url_template    text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (auth_mode = 'none' OR secret_sha256 IS NOT NULL)
);

-- An extension or SIP account of a source, and the CRM user behind it.
CREATE TABLE agents (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id   bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    extension   text NOT NULL CHECK (length(extension) BETWEEN 1 AND 128),
    crm_user    text NOT NULL CHECK (length(crm_user) BETWEEN 1 AND 256),
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, extension)
);

-- A CRM lead: the other party of calls.
CREATE TABLE leads (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone       e164 NOT NULL,
    name        text NOT NULL DEFAULT '',
    company     text NOT NULL DEFAULT '',
    crm_id      text UNIQUE,
    crm_url     text,
    responsible text,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    origin      text NOT NULL DEFAULT 'crm' CHECK (origin IN ('crm', 'ringlog')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_open_phone ON leads (phone) WHERE status = 'open';

-- One row per (source, PBX call id).
CREATE TABLE calls (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    bigint NOT NULL REFERENCES sources (id) ON DELETE RESTRICT,
    pbx_call_id  pbx_call_id NOT NULL,
    direction    call_direction NOT NULL,
    disposition  call_disposition NOT NULL,
    caller       text,
    caller_e164  e164,
    caller_name  text,
    callee       text,
    callee_e164  e164,
    did          text,
    agent        text,
    agent_name   text,
    started_at   timestamptz NOT NULL,
    answered_at  timestamptz,
    ended_at     timestamptz,
    duration_s   seconds,
    billable_s   seconds,
    lead_id      bigint REFERENCES leads (id) ON DELETE SET NULL,
    raw          jsonb NOT NULL,            -- everything the PBX sent
    revision     integer NOT NULL DEFAULT 1,
    received_at  timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, pbx_call_id)
);
CREATE INDEX calls_started ON calls (started_at DESC, id DESC);
CREATE INDEX calls_lead ON calls (lead_id, started_at DESC, id DESC) WHERE lead_id IS NOT NULL;
CREATE INDEX calls_caller ON calls (caller_e164) WHERE caller_e164 IS NOT NULL;
CREATE INDEX calls_callee ON calls (callee_e164) WHERE callee_e164 IS NOT NULL;

-- Earlier payloads of a call: replaced by a later push, or a late push
-- (a "call in progress" after the end) that was kept but not applied.
CREATE TABLE call_revisions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     bigint NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    revision    integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('replaced', 'ignored')),
    raw         jsonb NOT NULL,
    received_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_revisions_call ON call_revisions (call_id, revision);

-- Recordings of a call, in order.
CREATE TABLE recordings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     bigint NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    position    non_negative NOT NULL,
    state       recording_state NOT NULL,
    remote_ref  text,                       -- an encoded id the PBX understands
    remote_url  text,                       -- or a URL the PBX pushed
    blob_key    sha256_hex,
    size_bytes  non_negative,
    mime_type   text,
    sha256      sha256,
    attempts    non_negative NOT NULL DEFAULT 0,
    last_error  text,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    stored_at   timestamptz,
    UNIQUE (call_id, position),
    CHECK (state <> 'stored' OR (blob_key IS NOT NULL AND size_bytes IS NOT NULL)),
    CHECK (state = 'stored' OR remote_ref IS NOT NULL OR remote_url IS NOT NULL)
);
CREATE INDEX recordings_remote ON recordings (next_attempt_at NULLS FIRST, id) WHERE state = 'remote';

-- Missed-call follow-ups.
CREATE TABLE tasks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL DEFAULT 'missed_call'
                CHECK (kind IN ('missed_call', 'check_agent_mapping')),
    lead_id     bigint REFERENCES leads (id) ON DELETE CASCADE,
    call_id     bigint REFERENCES calls (id) ON DELETE CASCADE,
    assignee    text,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz,
    CHECK ((status = 'done') = (done_at IS NOT NULL))
);
CREATE INDEX tasks_open ON tasks (assignee, created_at) WHERE status = 'open';

-- Every push that could not be stored as a call, byte for byte.
CREATE TABLE dead_letters (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_name   text NOT NULL,
    reason        text NOT NULL CHECK (reason ~ '^[a-z][a-z_]{0,63}$'),
    message       text NOT NULL,
    field         text,
    method        text NOT NULL CHECK (method IN ('GET', 'POST', 'PUT')),
    content_type  text,
    query         text NOT NULL DEFAULT '',
    body          bytea NOT NULL,
    request_id    text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'replayed')),
    replayed_at   timestamptz,
    replay_call_id bigint REFERENCES calls (id) ON DELETE SET NULL,
    CHECK ((status = 'replayed') = (replayed_at IS NOT NULL))
);
CREATE INDEX dead_letters_new ON dead_letters (received_at) WHERE status = 'new';

-- Bearer tokens of the CRM's backend; only their SHA-256 is kept.
CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    token_sha256  bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
