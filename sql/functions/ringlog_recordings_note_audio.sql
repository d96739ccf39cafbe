-- What became of the inline audio of call P_CALL_ID, from the recordings
-- array of the push (the elements with "blob"): the original's hash, type
-- and size, and "corrupt" (the reason) for audio that cannot be decoded.
-- Called by the ingest statement right after ringlog_ingest_call, in the
-- same transaction; a function of its own so that the upsert stays as it is.
CREATE OR REPLACE FUNCTION ringlog_recordings_note_audio(p_call_id bigint, p_recordings jsonb)
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
