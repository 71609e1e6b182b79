-- The schema of a campaign database. Dates are INTEGER YYYYMMDD (NULL: not
-- set): readable in the sqlite3 shell, compared as numbers, and far cheaper
-- to bind and scan than text. Every campaign table carries branch_code so
-- that branches share a database without touching each other's data.

CREATE TABLE employers (
    employer_code TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    postal_code   TEXT NOT NULL,
    address       TEXT NOT NULL,
    address_line2 TEXT NOT NULL DEFAULT '',
    contact       TEXT NOT NULL DEFAULT '',
    closed_on     INTEGER
);

CREATE TABLE members (
    id                    INTEGER PRIMARY KEY,
    branch_code           TEXT NOT NULL,
    symbol                TEXT NOT NULL,
    number                TEXT NOT NULL,
    branch_no             TEXT NOT NULL,
    relationship          TEXT NOT NULL,
    insured_type          TEXT NOT NULL,
    name                  TEXT NOT NULL,
    name_kana             TEXT NOT NULL,
    birth_date            INTEGER NOT NULL,
    sex                   INTEGER NOT NULL,
    acquired_on           INTEGER NOT NULL,
    decided_on            INTEGER,
    lost_on               INTEGER,
    scheduled_loss_on     INTEGER,
    employer_code         TEXT NOT NULL DEFAULT '',
    postal_code           TEXT NOT NULL DEFAULT '',
    address               TEXT NOT NULL DEFAULT '',
    address_line2         TEXT NOT NULL DEFAULT '',
    mynumber_on_file      INTEGER NOT NULL,
    myna_linked_on        INTEGER,
    ecert_expires_on      INTEGER,
    dv                    INTEGER NOT NULL,
    certificate_issued_on INTEGER,
    copay_rate            INTEGER,
    language              TEXT NOT NULL DEFAULT 'ja'
);
CREATE UNIQUE INDEX members_key ON members (branch_code, symbol, number, branch_no);
-- DV-registered members are few; this index lets every export check them all cheaply.
CREATE INDEX members_dv ON members (branch_code, symbol, number, branch_no) WHERE dv = 1;

CREATE TABLE campaigns (
    branch_code TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL, -- the TOML file as given
    campaign    TEXT NOT NULL  -- the parsed settings, JSON
);

CREATE TABLE steps (
    branch_code TEXT NOT NULL,
    step        TEXT NOT NULL,
    done_at     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (branch_code, step)
);

-- Written in member order (members are stored in key order), so inserts
-- append; no secondary index, counts scan the table.
CREATE TABLE decisions (
    member_id   INTEGER PRIMARY KEY REFERENCES members (id),
    branch_code TEXT NOT NULL,
    decision    TEXT NOT NULL
);

CREATE TABLE losses (
    id          INTEGER PRIMARY KEY,
    branch_code TEXT NOT NULL, -- the campaign's branch that read the file
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL,
    key_branch  TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    number      TEXT NOT NULL,
    branch_no   TEXT NOT NULL,
    lost_on     INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    known       INTEGER NOT NULL, -- the key is a member of the branch
    recorded_at TEXT NOT NULL
);
CREATE INDEX losses_branch ON losses (branch_code);

-- Sequences of a branch: tracking positions used, next envelope and
-- certificate numbers. Saved in the transaction that uses them.
CREATE TABLE counters (
    branch_code TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       INTEGER NOT NULL,
    PRIMARY KEY (branch_code, name)
);

-- Envelopes and certificates are clustered by their IDs (WITHOUT ROWID):
-- IDs grow with the print order, so packing appends to one B-tree per
-- table instead of a table and an ID index.
CREATE TABLE envelopes (
    envelope_id   TEXT PRIMARY KEY, -- E + branch + 8-digit sequence: sorts in print order
    branch_code   TEXT NOT NULL,
    kind          TEXT NOT NULL,    -- bulk
    seq           INTEGER NOT NULL,
    symbol        TEXT NOT NULL,
    number        TEXT NOT NULL,
    addressee_no  TEXT NOT NULL,    -- branch number of the addressee
    employer_code TEXT NOT NULL,    -- the household's employer; '' for voluntary households
    k             INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    tracking_no   INTEGER NOT NULL UNIQUE, -- a physical label: never twice
    wave          INTEGER NOT NULL,
    send_on       INTEGER NOT NULL,
    postal_code   TEXT NOT NULL,
    address       TEXT NOT NULL,
    address_line2 TEXT NOT NULL,
    certificates  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX envelopes_household ON envelopes (branch_code, symbol, number);

CREATE TABLE certificates (
    certificate_id TEXT PRIMARY KEY, -- C + branch + 8-digit sequence
    envelope_id    TEXT NOT NULL REFERENCES envelopes (envelope_id),
    position       INTEGER NOT NULL,
    member_id      INTEGER NOT NULL REFERENCES members (id),
    issued_on      INTEGER NOT NULL,
    valid_until    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX certificates_envelope ON certificates (envelope_id, position);
CREATE INDEX certificates_member ON certificates (member_id);
