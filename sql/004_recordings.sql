

-- The lease and the claim: sql/functions/ringlog_recording*_claim*.sql.
