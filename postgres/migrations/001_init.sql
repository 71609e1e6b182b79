-- The schema of a campaign database on PostgreSQL. Every campaign table
-- carries branch_code: the campaigns of all branches share one database
-- without touching each other's data.

CREATE TABLE employers (
    employer_code text PRIMARY KEY,
    name          text NOT NULL,
    postal_code   text NOT NULL,
    address       text NOT NULL,
    address_line2 text NOT NULL DEFAULT '',
    contact       text NOT NULL DEFAULT '',
    closed_on     date
);

CREATE TABLE members (
    id                    bigserial PRIMARY KEY,
    branch_code           text NOT NULL,
    symbol                text NOT NULL,
    number                text NOT NULL,
    branch_no             text NOT NULL,
    relationship          text NOT NULL,
    insured_type          text NOT NULL,
    name                  text NOT NULL,
    name_kana             text NOT NULL,
    birth_date            date NOT NULL,
    sex                   smallint NOT NULL,
    acquired_on           date NOT NULL,
    decided_on            date,
    lost_on               date,
    scheduled_loss_on     date,
    employer_code         text NOT NULL DEFAULT '',
    postal_code           text NOT NULL DEFAULT '',
    address               text NOT NULL DEFAULT '',
    address_line2         text NOT NULL DEFAULT '',
    mynumber_on_file      boolean NOT NULL,
    myna_linked_on        date,
    ecert_expires_on      date,
    dv                    boolean NOT NULL,
    certificate_issued_on date,
    copay_rate            smallint,
    language              text NOT NULL DEFAULT 'ja'
);
CREATE UNIQUE INDEX members_key ON members (branch_code, symbol, number, branch_no);
CREATE INDEX members_dv ON members (branch_code, symbol, number, branch_no) WHERE dv;

CREATE TABLE campaigns (
    branch_code text PRIMARY KEY,
    name        text NOT NULL,
    settings    text NOT NULL,
    campaign    jsonb NOT NULL
);

CREATE TABLE steps (
    branch_code text NOT NULL,
    step        text NOT NULL,
    done_at     timestamptz NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (branch_code, step)
);

-- No foreign keys on the bulk tables: each row would be checked one by
-- one during COPY; the steps' transactions keep them consistent.
CREATE TABLE decisions (
    member_id   bigint PRIMARY KEY,
    branch_code text NOT NULL,
    decision    text NOT NULL
);
CREATE INDEX decisions_branch ON decisions (branch_code, decision);

CREATE TABLE losses (
    id          bigserial PRIMARY KEY,
    branch_code text NOT NULL,
    file        text NOT NULL,
    line        integer NOT NULL,
    key_branch  text NOT NULL,
    symbol      text NOT NULL,
    number      text NOT NULL,
    branch_no   text NOT NULL,
    lost_on     date NOT NULL,
    reason      text NOT NULL DEFAULT '',
    known       boolean NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX losses_branch ON losses (branch_code);

CREATE TABLE counters (
    branch_code text NOT NULL,
    name        text NOT NULL,
    value       bigint NOT NULL,
    PRIMARY KEY (branch_code, name)
);

CREATE TABLE envelopes (
    envelope_id   text PRIMARY KEY,
    branch_code   text NOT NULL,
    kind          text NOT NULL,
    seq           bigint NOT NULL,
    symbol        text NOT NULL,
    number        text NOT NULL,
    addressee_no  text NOT NULL,
    employer_code text NOT NULL,
    k             integer NOT NULL,
    n             integer NOT NULL,
    tracking_no   bigint NOT NULL UNIQUE, -- a physical label: never twice, in any branch
    wave          integer NOT NULL,
    send_on       date NOT NULL,
    postal_code   text NOT NULL,
    address       text NOT NULL,
    address_line2 text NOT NULL,
    certificates  integer NOT NULL
);
CREATE INDEX envelopes_household ON envelopes (branch_code, symbol, number);
CREATE INDEX envelopes_branch ON envelopes (branch_code, envelope_id);

CREATE TABLE certificates (
    certificate_id text PRIMARY KEY,
    envelope_id    text NOT NULL,
    position       integer NOT NULL,
    member_id      bigint NOT NULL,
    issued_on      date NOT NULL,
    valid_until    date NOT NULL
);
CREATE INDEX certificates_envelope ON certificates (envelope_id, position);
CREATE INDEX certificates_member ON certificates (member_id);
