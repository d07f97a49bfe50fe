-- What staff wrote about an alarm, in order: on acknowledging it, on resolving it, or on its
-- own (what a technician found, who was called). Kept beside the alarm so the console shows an
-- alarm's story without searching the audit log, where each note is also recorded. A note is
-- never changed or removed: a correction is another note.
CREATE TABLE alarm_notes (
    id        INTEGER PRIMARY KEY,
    alarm_id  BIGINT NOT NULL REFERENCES alarms (id),
    at        TEXT NOT NULL,
    user_id   BIGINT NOT NULL REFERENCES users (id),
    -- What came with the note: a step of the alarm's, or nothing.
    step      TEXT NOT NULL CHECK (step IN ('note', 'acknowledged', 'resolved')),
    note      TEXT NOT NULL CHECK (note <> ''),
    -- The form's nonce (or the step): the same note sent twice is kept once.
    form_key  TEXT NOT NULL,
    UNIQUE (alarm_id, form_key)
);
CREATE TRIGGER alarm_notes_no_update BEFORE UPDATE ON alarm_notes
BEGIN
    SELECT RAISE(ABORT, 'alarm notes are never changed');
END;
CREATE TRIGGER alarm_notes_no_delete BEFORE DELETE ON alarm_notes
BEGIN
    SELECT RAISE(ABORT, 'alarm notes are never removed');
END;
