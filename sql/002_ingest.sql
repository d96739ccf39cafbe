
-- The function itself: sql/functions/ringlog_ingest_call.sql.
