-- 004: recordings (issue 4). Inline audio is stored with its call; remote
-- recordings are fetched once however many players and fetcher processes
-- ask (a lease on the row), failures are kept and retried with backoff.

-- What went wrong with the last fetch (the codes the API answers).
CREATE DOMAIN recording_error AS text CHECK (VALUE IN (
    'upstream_auth_failed', 'upstream_rejected_ref', 'upstream_timeout', 'upstream_error',
    'upstream_not_allowed', 'upstream_not_configured', 'upstream_too_large'));

-- Nullable columns without defaults: no table rewrite.
ALTER TABLE recordings
    ADD COLUMN last_error_code recording_error,
    ADD COLUMN lease_owner text,         -- the fetcher process fetching it now ...
    ADD COLUMN lease_until timestamptz;  -- ... until then; after it, anyone may

-- Which rows use a blob (`ringlog recordings gc`; inline audio shared by calls).
CREATE INDEX recordings_blob ON recordings (blob_key) WHERE blob_key IS NOT NULL;

-- The lease and the claim: sql/functions/ringlog_recording*_claim*.sql.
