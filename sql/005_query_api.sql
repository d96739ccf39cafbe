

-- The export, the lead upsert and the helpers: sql/functions/.
