-- Spreadsheet formula injection: a free-text cell that starts with
-- = + - @ TAB or CR gets a leading apostrophe, so Excel and LibreOffice show
-- it as text instead of running it. A cell that is a phone number, "+" and
-- digits only (the name of a lead created for a new number), is a number to
-- a spreadsheet, not a formula: it is exported as it is. "+1+1", "-2+3",
-- "+SUM(1;2)" are still guarded.
CREATE OR REPLACE FUNCTION ringlog_csv_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN left(t, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND t !~ '^\+[0-9]{1,15}$'
                THEN '''' || t ELSE t END
$$;
