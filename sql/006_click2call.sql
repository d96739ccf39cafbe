-- 006: click-to-call. How a source's PBX is asked to ring an agent and then
-- dial a number, and every click, kept so the CDR that arrives later (with
-- the PBX's call id) is linked to who clicked and from which lead.

ALTER TABLE sources
    ADD COLUMN click2call_style text NOT NULL DEFAULT 'none'
        CHECK (click2call_style IN ('none', 'voicenter', 'url_template')),
    ADD COLUMN click2call_url text,      -- Voicenter's endpoint, or a template with {extension} ...
    ADD COLUMN click2call_user text,
    ADD COLUMN click2call_secret text;   -- Voicenter's `code`, or the template's {password}

CREATE TABLE click2calls (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    action       text NOT NULL CHECK (action IN ('call', 'terminate')),
    clicked_by   text,                   -- the CRM user who pressed the button
    agent        text NOT NULL,          -- as the CRM named it: a CRM user or an extension
    extension    text NOT NULL,          -- what the PBX was asked to ring
    target       text,
    target_e164  e164,
    lead_id      bigint REFERENCES leads (id) ON DELETE SET NULL,
    record       boolean NOT NULL DEFAULT false,
    vars         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(vars) = 'object'),
    outcome      text NOT NULL
                 CHECK (outcome IN ('calling', 'terminated', 'refused', 'failed')),
    error        text,                   -- machine code when refused or failed
    message      text,
    pbx_call_id  text,                   -- Voicenter's CALLID = the CDR's ivruniqueid
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX click2calls_pbx_call ON click2calls (source_id, pbx_call_id)
    WHERE pbx_call_id IS NOT NULL;
CREATE INDEX click2calls_created ON click2calls (created_at DESC);
