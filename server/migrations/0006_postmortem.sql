-- The postmortem draft kept with a finished incident's memory entry (read on demand, never
-- loaded into the in-memory search index).
ALTER TABLE memories ADD COLUMN postmortem TEXT;
