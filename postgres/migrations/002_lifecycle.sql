-- After sending (rules §5): every fact about a certificate is an event;
-- its state is derived from its send date and its events. Resend
-- packages and reissue envelopes live in envelopes (kind 'resend',
-- 'reissue'); what a package holds is its 'resent' events.
CREATE TABLE events (
    id             bigserial PRIMARY KEY,
    branch_code    text NOT NULL,
    certificate_id text NOT NULL,
    kind           text NOT NULL,
    on_date        date NOT NULL,
    envelope_id    text NOT NULL DEFAULT '',
    tracking_no    bigint NOT NULL DEFAULT 0,
    reason         text NOT NULL DEFAULT '',
    lost_on        date,
    batch          text NOT NULL DEFAULT '',
    operator       text NOT NULL DEFAULT '',
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX events_certificate ON events (certificate_id, on_date, id);
CREATE INDEX events_kind ON events (branch_code, kind);
CREATE INDEX events_envelope ON events (envelope_id, kind);
CREATE INDEX events_batch ON events (branch_code, batch);

CREATE TABLE access_log (
    id          bigserial PRIMARY KEY,
    branch_code text NOT NULL,
    at          timestamptz NOT NULL,
    operator    text NOT NULL,
    query       text NOT NULL,
    persons     text NOT NULL
);
