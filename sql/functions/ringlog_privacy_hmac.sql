-- HMAC-SHA256 (RFC 2104) of MSG under KEY, with PostgreSQL's own sha256():
-- the keyed hash of erased calls and erased numbers (sql/040). No extension
-- needed; about 20 µs.
CREATE OR REPLACE FUNCTION ringlog_privacy_hmac(p_key bytea, p_msg text) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    k    bytea := p_key;
    ipad bytea;
    opad bytea;
BEGIN
    IF length(k) > 64 THEN
        k := sha256(k);
    END IF;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    ipad := k;
    opad := k;
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);  -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);  -- 0x5c
    END LOOP;
    RETURN sha256(opad || sha256(ipad || convert_to(p_msg, 'UTF8')));
END
$$;
