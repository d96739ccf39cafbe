-- A phone number cell: "+" and the E.164 digits when the number was
-- normalised; otherwise what the PBX sent, guarded unless it is plainly a
-- number ("+36 1 234", "1002"), so numbers are never altered.
CREATE OR REPLACE FUNCTION ringlog_csv_phone(raw text, e164 text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN e164 IS NOT NULL THEN '+' || e164
        WHEN left(raw, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND raw !~ '^\+[0-9][0-9 ()./-]*$'
            THEN '''' || raw
        ELSE raw
    END
$$;
