-- Issue 10: one time format in every JSON answer.
--
-- A time as the API writes it: RFC 3339 in UTC, to the second
-- ("2025-06-16T09:20:05Z"), always the same length. Fractions of a second
-- (now() has them) are cut: no answer carries them. This replaces the
-- definition of 005_query_api.sql; the function's one home is here until
-- functions move to files of their own.
CREATE OR REPLACE FUNCTION ringlog_utc_text(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Spreadsheet formula injection: a free-text cell that starts with
-- = + - @ TAB or CR gets a leading apostrophe, so Excel and LibreOffice show
-- it as text instead of running it. A cell that is a phone number, "+" and
-- digits only (the name of a lead created for a new number), is a number to
-- a spreadsheet, not a formula: it is exported as it is. "+1+1", "-2+3",
-- "+SUM(1;2)" are still guarded. Replaces the definition of 005_query_api.sql.
CREATE OR REPLACE FUNCTION ringlog_csv_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN left(t, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND t !~ '^\+[0-9]{1,15}$'
                THEN '''' || t ELSE t END
$$;
