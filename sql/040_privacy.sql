-- 040: privacy (README "Privacy"): erasing a person, legal holds, and the
-- audit trail of who listened to or exported what.
--
-- Nothing here holds a phone number or a PBX call id in clear: an erased
-- call leaves a keyed hash of (source, PBX call id) so that it never comes
-- back (spooled push, dead-letter replay, reconciliation pull); an erasure
-- is recorded with a keyed hash of the number. The key is the privacy key
-- file ([privacy] key_file), handed to each session by the programs
-- (ringlog.privacy_key); it is never stored in the database.

-- HMAC-SHA256 in C (6 µs, against 80 µs in PL/pgSQL): pgcrypto ships with
-- PostgreSQL (Debian: postgresql-15) and is a trusted extension, so the
-- database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- A dead letter replayed into a call goes with the call (erasure, retention).
CREATE INDEX IF NOT EXISTS dead_letters_replay_call ON dead_letters (replay_call_id)
    WHERE replay_call_id IS NOT NULL;

-- Calls erased: HMAC-SHA256(key, 'call:' || source_id || ':' || pbx_call_id).
CREATE TABLE erased_calls (
    key_hash   bytea PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    erased_at  timestamptz NOT NULL DEFAULT now()
);

-- Each erasure: when, by whom, how many rows of each kind, what it kept
-- and why; the number only as HMAC-SHA256(key, 'phone:' || e164).
CREATE TABLE erasures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erased_at   timestamptz NOT NULL DEFAULT now(),
    erased_by   text NOT NULL CHECK (length(erased_by) BETWEEN 1 AND 256),
    phone_hash  bytea NOT NULL CHECK (octet_length(phone_hash) = 32),
    source_name text,
    removed     jsonb NOT NULL CHECK (jsonb_typeof(removed) = 'object'),
    kept        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(kept) = 'array')
);
CREATE INDEX erasures_phone ON erasures (phone_hash);

-- Legal holds: a held call, or a lead and every call linked to it, is
-- skipped by retention and by erasure. The foreign keys refuse to delete
-- held data by any other way too (RESTRICT): remove the hold first.
CREATE TABLE holds (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id    bigint UNIQUE REFERENCES call_keys (call_id) ON DELETE RESTRICT,
    lead_id    bigint UNIQUE REFERENCES leads (id) ON DELETE RESTRICT,
    reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    held_by    text NOT NULL CHECK (length(held_by) BETWEEN 1 AND 256),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((call_id IS NULL) <> (lead_id IS NULL))
);

-- Who listened, downloaded, exported: kept for [maintain] keep_audit.
-- No foreign key: the trail outlives the call.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 256),
    auth         text NOT NULL CHECK (auth IN ('token', 'session', 'signed_url')),
    action       text NOT NULL CHECK (action IN ('play', 'download', 'export')),
    call_id      bigint,
    recording_id bigint,
    source_name  text,
    filters      jsonb CHECK (filters IS NULL OR jsonb_typeof(filters) = 'object'),
    row_count    bigint
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_call ON audit_log (call_id, at) WHERE call_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor, at);

-- What a token may do beyond the query API (which every token may use, as
-- before): 'erase'.
ALTER TABLE api_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT '{}'
    CHECK (scopes <@ ARRAY['erase']::text[]);

-- The tombstone and the per-number guard are triggers made with their
-- functions (sql/functions/ringlog_erased_key.sql, ringlog_erase_guard.sql).
