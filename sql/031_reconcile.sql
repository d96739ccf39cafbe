-- Reconciliation (issue 15): the PBX's own call log pulled per source, each
-- record stored through the push path. A call filled by a pull says so
-- (calls.origin); a source says how often and how far back to pull, where
-- (pull_url: the vendor's default when empty) and with what key
-- (pull_secret, kept like fetch_secret); reconcile_state is what the pulls
-- did, for `ringlog source show` and /metrics.
ALTER TABLE calls ADD COLUMN origin text NOT NULL DEFAULT 'push'
    CHECK (origin IN ('push', 'reconcile'));
ALTER TABLE sources
    ADD COLUMN reconcile_every interval CHECK (reconcile_every >= interval '1 minute'),
    ADD COLUMN reconcile_window interval NOT NULL DEFAULT interval '48 hours'
        CHECK (reconcile_window > interval '0'),
    ADD COLUMN pull_url text,
    ADD COLUMN pull_secret text;
CREATE TABLE reconcile_state (
    source_id    bigint PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    last_run_at  timestamptz,
    last_ok_at   timestamptz,   -- the last pull that read its whole window
    pulled_until timestamptz,   -- the end of that window
    seen         bigint NOT NULL DEFAULT 0,
    filled       bigint NOT NULL DEFAULT 0,
    refused      bigint NOT NULL DEFAULT 0,
    errors       jsonb NOT NULL DEFAULT '{}', -- pull errors by kind: {"rate_limited": 3, ...}
    last_error   text
);
