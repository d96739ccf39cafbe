-- 023: recordings at scale (issue 13). Audio browsers cannot all play is
-- transcoded when it is stored; the row keeps what came (its SHA-256, type
-- and size). Audio that cannot be decoded is kept as it came and the row is
-- marked failed with the reason, so a recording may now be failed with only
-- a blob (inline audio has no reference to fetch again).

-- Nullable columns without defaults: no table rewrite.
ALTER TABLE recordings
    ADD COLUMN original_sha256 sha256,          -- what the PBX sent, when the blob is not it
    ADD COLUMN original_mime_type text,
    ADD COLUMN original_size_bytes non_negative;

ALTER DOMAIN recording_error DROP CONSTRAINT recording_error_check;
ALTER DOMAIN recording_error ADD CONSTRAINT recording_error_check CHECK (VALUE IN (
    'upstream_auth_failed', 'upstream_rejected_ref', 'upstream_timeout', 'upstream_error',
    'upstream_not_allowed', 'upstream_not_configured', 'upstream_too_large', 'audio_corrupt'));

ALTER TABLE recordings DROP CONSTRAINT recordings_check1;
ALTER TABLE recordings ADD CONSTRAINT recordings_has_content
    CHECK (state = 'stored' OR remote_ref IS NOT NULL OR remote_url IS NOT NULL OR blob_key IS NOT NULL);

-- ringlog_recordings_note_audio() (sql/functions) records what became of inline audio.
