-- Counts P_N calls of source P_SOURCE_ID that a pull filled (stored with
-- origin 'reconcile': pushes that were lost) in reconcile_state.filled, in
-- the transaction that stores them, so the count is never more nor less
-- than the calls committed, whatever becomes of the pull afterwards. Read by
-- ringlog-ingestd's ringlog_reconcile_filled_calls_total{source} and by
-- `ringlog source show`. Called by ringlog_ingest_calls only.
CREATE OR REPLACE FUNCTION ringlog_reconcile_filled(p_source_id bigint, p_n bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO reconcile_state AS s (source_id, filled) VALUES (p_source_id, p_n)
    ON CONFLICT (source_id) DO UPDATE SET filled = s.filled + EXCLUDED.filled
$$;
