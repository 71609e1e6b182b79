-- After sending (rules §5): every fact about a certificate is an event;
-- its state is derived from its send date and its events. Resend
-- packages and reissue envelopes live in envelopes (kind 'resend',
-- 'reissue'); what a package holds is its 'resent' events.
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    branch_code    TEXT NOT NULL,
    certificate_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    on_date        INTEGER NOT NULL,          -- the day it happened (YYYYMMDD)
    envelope_id    TEXT NOT NULL DEFAULT '',  -- the envelope concerned
    tracking_no    INTEGER NOT NULL DEFAULT 0,
    reason         TEXT NOT NULL DEFAULT '',
    lost_on        INTEGER,                   -- voided: the member's loss date
    batch          TEXT NOT NULL DEFAULT '',  -- resend batch (YYYY-MM) that recorded it
    operator       TEXT NOT NULL DEFAULT '',
    recorded_at    TEXT NOT NULL
);
CREATE INDEX events_certificate ON events (certificate_id, on_date, id);
CREATE INDEX events_kind ON events (branch_code, kind);
CREATE INDEX events_envelope ON events (envelope_id, kind);
CREATE INDEX events_batch ON events (branch_code, batch);

-- Who looked up whom, and when (lookup).
CREATE TABLE access_log (
    id          INTEGER PRIMARY KEY,
    branch_code TEXT NOT NULL,
    at          TEXT NOT NULL,
    operator    TEXT NOT NULL,
    query       TEXT NOT NULL,
    persons     TEXT NOT NULL
);
