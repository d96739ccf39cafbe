-- HMAC-SHA256 (RFC 2104) of MSG under KEY: the keyed hash of erased calls
-- and erased numbers (sql/040), by pgcrypto (about 6 µs).
CREATE OR REPLACE FUNCTION ringlog_privacy_hmac(p_key bytea, p_msg text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT hmac(convert_to(p_msg, 'UTF8'), p_key, 'sha256')
$$;
