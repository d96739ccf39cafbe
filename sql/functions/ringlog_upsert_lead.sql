-- Creates or updates one lead (the CRM sync, `ringlog lead add` and `lead
-- import`, through ringlog_upsert_leads). P holds only
-- checked keys: crm_id, phone (E.164 digits), name, company, crm_url,
-- responsible, status; a missing key leaves the field as it is, a JSON null
-- clears it. The lead is found by crm_id, else (for a new crm_id: only
-- among ringlog's own leads) by an open lead of the phone. A new lead, or
-- one whose number changed, takes over the earlier calls of its number that
-- have no lead yet (ringlog_lead_backfill: legs stay unlinked). Creating a
-- lead or moving one to a number holds that number's lock
-- (ringlog_lead_lock), as a push creating a lead does. Outcome: created, updated, unchanged, or needs_phone (no
-- such lead and no phone to create it with).
CREATE OR REPLACE FUNCTION ringlog_upsert_lead(p jsonb,
    OUT lead_id bigint, OUT outcome text, OUT linked_calls integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_old leads%ROWTYPE;
    v_new leads%ROWTYPE;
    v_found boolean := false;
BEGIN
    linked_calls := 0;
    -- Two writers of the same new number must not make two leads (no
    -- unique key can say "one open lead per number"): its lock first.
    IF p->>'phone' ~ '^[1-9][0-9]{0,14}$' THEN
        PERFORM ringlog_lead_lock(p->>'phone', true);
    END IF;
    IF p ? 'crm_id' THEN
        SELECT * INTO v_old FROM leads l WHERE l.crm_id = p->>'crm_id' FOR UPDATE;
        v_found := FOUND;
    END IF;
    IF NOT v_found AND p ? 'phone' THEN
        SELECT * INTO v_old FROM leads l
         WHERE l.phone = p->>'phone' AND l.status = 'open'
           AND (l.crm_id IS NULL OR NOT p ? 'crm_id')
         ORDER BY l.id LIMIT 1 FOR UPDATE;
        v_found := FOUND;
    END IF;

    IF NOT v_found THEN
        IF NOT p ? 'phone' THEN
            outcome := 'needs_phone';
            RETURN;
        END IF;
        INSERT INTO leads AS l (phone, name, company, crm_id, crm_url, responsible, status, origin)
        VALUES (p->>'phone', coalesce(p->>'name', ''), coalesce(p->>'company', ''), p->>'crm_id',
                p->>'crm_url', p->>'responsible', coalesce(p->>'status', 'open'), 'crm')
        RETURNING l.* INTO v_new;
        outcome := 'created';
    ELSE
        v_new := v_old;
        IF p ? 'phone' THEN v_new.phone := p->>'phone'; END IF;
        IF p ? 'name' THEN v_new.name := coalesce(p->>'name', ''); END IF;
        IF p ? 'company' THEN v_new.company := coalesce(p->>'company', ''); END IF;
        IF p ? 'crm_id' THEN v_new.crm_id := p->>'crm_id'; END IF;
        IF p ? 'crm_url' THEN v_new.crm_url := p->>'crm_url'; END IF;
        IF p ? 'responsible' THEN v_new.responsible := p->>'responsible'; END IF;
        IF p ? 'status' THEN v_new.status := p->>'status'; END IF;
        IF v_new IS NOT DISTINCT FROM v_old THEN
            outcome := 'unchanged';
        ELSE
            UPDATE leads l SET phone = v_new.phone, name = v_new.name, company = v_new.company,
                   crm_id = v_new.crm_id, crm_url = v_new.crm_url,
                   responsible = v_new.responsible, status = v_new.status, updated_at = now()
             WHERE l.id = v_old.id;
            outcome := 'updated';
        END IF;
    END IF;
    lead_id := v_new.id;

    IF v_new.status = 'open' AND (outcome = 'created' OR v_new.phone <> v_old.phone) THEN
        linked_calls := ringlog_lead_backfill(v_new.id, v_new.phone);
    END IF;
END
$$;
