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

-- What became of the inline audio of call P_CALL_ID, from the recordings
-- array of the push (the elements with "blob"): the original's hash, type
-- and size, and "corrupt" (the reason) for audio that cannot be decoded.
-- Called by the ingest statement right after ringlog_ingest_call, in the
-- same transaction; a function of its own so that the upsert stays as it is.
CREATE FUNCTION ringlog_recordings_note_audio(p_call_id bigint, p_recordings jsonb)
RETURNS void LANGUAGE sql AS $$
    UPDATE recordings r
       SET original_sha256 = decode(e.rec->>'original_sha256', 'hex'),
           original_mime_type = e.rec->>'original_mime',
           original_size_bytes = (e.rec->>'original_size')::bigint,
           state = CASE WHEN e.rec ? 'corrupt' THEN 'failed' ELSE r.state END,
           last_error = CASE WHEN e.rec ? 'corrupt' THEN e.rec->>'corrupt' ELSE r.last_error END,
           last_error_code = CASE WHEN e.rec ? 'corrupt' THEN 'audio_corrupt'
                                  ELSE r.last_error_code END
      FROM jsonb_array_elements(p_recordings) e(rec)
     WHERE p_call_id IS NOT NULL AND r.call_id = p_call_id
       AND e.rec ? 'original_sha256' AND r.blob_key = e.rec->>'blob';
$$;
