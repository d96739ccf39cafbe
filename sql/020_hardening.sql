-- 020: limits from the hostile review (issue 19). Schema only; the rules
-- are in C.
--
-- A source sends its fetch credentials over plain http only when it says
-- so (`ringlog source update NAME --fetch-plain-http yes`).
ALTER TABLE sources ADD COLUMN fetch_plain_http boolean NOT NULL DEFAULT false;

-- Dead letters are kept within a byte budget per source: this one's, or
-- the daemon's `[ingest] dead_letters_max` when NULL. Refusals past it are
-- answered and counted but not kept.
ALTER TABLE sources ADD COLUMN dead_letters_max bigint CHECK (dead_letters_max >= 0);
-- size_bytes: body and query, set by the daemons (a row made another way
-- without it does not count).
ALTER TABLE dead_letters ADD COLUMN size_bytes bigint;
UPDATE dead_letters SET size_bytes = octet_length(body) + octet_length(query);
-- What a source's dead letters weigh, read by an index-only scan.
CREATE INDEX dead_letters_source_size ON dead_letters (source_name, size_bytes);
