-- Spreadsheet formula injection: a free-text cell that starts with
-- = + - @ TAB or CR gets a leading apostrophe, so Excel and LibreOffice show
-- it as text instead of running it.
CREATE OR REPLACE FUNCTION ringlog_csv_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN left(t, 1) IN ('=', '+', '-', '@', E'\t', E'\r') THEN '''' || t ELSE t END
$$;
