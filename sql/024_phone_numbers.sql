-- 024: phone numbers read by libphonenumber (issue 17). Schema only; the
-- rules live in C (lib/phone.c, lib/phonenumber_shim.cc).
--
-- The region a source's national numbers are read in (ISO 3166: HU, IL,
-- US). NULL: the main region of its country_code (36 -> HU, 1 -> US).
ALTER TABLE sources ADD COLUMN region text CHECK (region ~ '^[A-Z]{2}$');

-- Where `ringlog phones renormalize` has got to: one row per table it
-- walks (calls, leads) in id order, committed with every batch, so a run
-- that stops resumes after the last batch it finished.
CREATE TABLE phone_renormalize (
    target      text PRIMARY KEY CHECK (target IN ('calls', 'leads')),
    last_id     bigint NOT NULL DEFAULT 0,
    rows_seen   bigint NOT NULL DEFAULT 0,
    changed     bigint NOT NULL DEFAULT 0,
    invalid     bigint NOT NULL DEFAULT 0,   -- numbers valid for no region
    started_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
