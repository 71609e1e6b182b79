// Package lifesql stores what happens after sending (events, resend
// packages, reissues, the lookup log) for both databases through
// database/sql. The two schemas differ only in column types (SQLite keeps
// dates as INTEGER YYYYMMDD, PostgreSQL as date), which Dialect bridges,
// so the lifecycle's queries are written once.
package lifesql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"shikaku"
)

// Dialect is what differs between the databases.
type Dialect struct {
	Postgres bool
}

// q rewrites ? placeholders as $1, $2… for PostgreSQL.
func (d Dialect) q(query string) string {
	if !d.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d Dialect) date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d.Postgres {
		return t
	}
	return int64(t.Year()*10000 + int(t.Month())*100 + t.Day())
}

func (d Dialect) time(t time.Time) any {
	if d.Postgres {
		return t
	}
	return t.UTC().Format(time.RFC3339)
}

func (d Dialect) bool(b bool) any {
	if d.Postgres {
		return b
	}
	if b {
		return 1
	}
	return 0
}

// toDate reads a date column of either database.
func toDate(v any) time.Time {
	switch t := v.(type) {
	case int64:
		if t == 0 {
			return time.Time{}
		}
		return time.Date(int(t/10000), time.Month(t/100%100), int(t%100), 0, 0, 0, 0, time.UTC)
	case time.Time:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return time.Time{}
}

func toTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case string:
		p, _ := time.Parse(time.RFC3339, t)
		return p
	case []byte:
		p, _ := time.Parse(time.RFC3339, string(t))
		return p
	}
	return time.Time{}
}

func toBool(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case int64:
		return t != 0
	}
	return false
}

func toInt(v any) int64 {
	switch t := v.(type) {
	case int64:
		return t
	case int32:
		return int64(t)
	case int16:
		return int64(t)
	}
	return 0
}

// Run runs fn in one transaction on the branch; lock (may be nil) takes
// the branch's lock first.
func Run(ctx context.Context, db *sql.DB, d Dialect, branch string, c *shikaku.Campaign, lock func(context.Context, *sql.Tx) error, fn func(shikaku.LifeTx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if lock != nil {
		if err := lock(ctx, tx); err != nil {
			return err
		}
	}
	if err := fn(&Tx{tx: tx, d: d, branch: branch, c: c}); err != nil {
		return err
	}
	return tx.Commit()
}

// Tx is a lifecycle transaction on one branch.
type Tx struct {
	tx     *sql.Tx
	d      Dialect
	branch string
	c      *shikaku.Campaign
}

var _ shikaku.LifeTx = (*Tx)(nil)

func (t *Tx) Campaign() *shikaku.Campaign { return t.c }

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.q(q), args...)
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, t.d.q(q), args...)
	return err
}

const certColumns = `c.certificate_id, c.issued_on, c.valid_until, m.id, m.symbol, m.number, m.branch_no, m.name, m.relationship, m.dv,
	e.envelope_id, e.kind, e.tracking_no, e.send_on, e.employer_code
	FROM certificates c JOIN envelopes e ON e.envelope_id = c.envelope_id JOIN members m ON m.id = c.member_id`

// certs reads certificate records (where is the condition after WHERE,
// args its arguments after the branch) and attaches their events.
func (t *Tx) certs(ctx context.Context, where string, args ...any) ([]*shikaku.CertRecord, error) {
	rows, err := t.query(ctx, `SELECT `+certColumns+` WHERE e.branch_code = ? AND `+where+` ORDER BY c.certificate_id`,
		append([]any{t.branch}, args...)...)
	if err != nil {
		return nil, err
	}
	var out []*shikaku.CertRecord
	for rows.Next() {
		var cr shikaku.CertRecord
		var issued, valid, dv, tn, send any
		var rel string
		cr.Member.Branch = t.branch
		if err := rows.Scan(&cr.ID, &issued, &valid, &cr.MemberID, &cr.Member.Symbol, &cr.Member.Number, &cr.Member.BranchNo,
			&cr.Name, &rel, &dv, &cr.EnvelopeID, &cr.EnvelopeKind, &tn, &send, &cr.EmployerCode); err != nil {
			rows.Close()
			return nil, err
		}
		cr.IssuedOn, cr.ValidUntil, cr.SendOn = toDate(issued), toDate(valid), toDate(send)
		cr.Relationship, cr.DV, cr.Tracking = shikaku.Relationship(rel), toBool(dv), shikaku.TrackingNumber(toInt(tn))
		out = append(out, &cr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, t.attachEvents(ctx, out)
}

func (t *Tx) attachEvents(ctx context.Context, certs []*shikaku.CertRecord) error {
	byID := map[string]*shikaku.CertRecord{}
	for _, c := range certs {
		byID[c.ID] = c
		c.Events = nil
	}
	for i := 0; i < len(certs); i += 500 {
		chunk := certs[i:min(i+500, len(certs))]
		args := make([]any, 0, len(chunk))
		for _, c := range chunk {
			args = append(args, c.ID)
		}
		rows, err := t.query(ctx, `SELECT id, certificate_id, kind, on_date, envelope_id, tracking_no, reason, lost_on, batch, operator, recorded_at
			FROM events WHERE certificate_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`) ORDER BY on_date, id`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e shikaku.Event
			var kind string
			var on, tn, lost, at any
			if err := rows.Scan(&e.ID, &e.CertificateID, &kind, &on, &e.EnvelopeID, &tn, &e.Reason, &lost, &e.Batch, &e.Operator, &at); err != nil {
				rows.Close()
				return err
			}
			e.Kind, e.On, e.TrackingNumber, e.LostOn, e.RecordedAt = shikaku.EventKind(kind), toDate(on), shikaku.TrackingNumber(toInt(tn)), toDate(lost), toTime(at)
			c := byID[e.CertificateID]
			c.Events = append(c.Events, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) envelope(ctx context.Context, where string, arg any) (*shikaku.SentEnvelope, error) {
	var e shikaku.SentEnvelope
	var tn, send any
	err := t.tx.QueryRowContext(ctx, t.d.q(`SELECT envelope_id, kind, tracking_no, send_on, employer_code FROM envelopes
		WHERE branch_code = ? AND `+where), t.branch, arg).Scan(&e.ID, &e.Kind, &tn, &send, &e.EmployerCode)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, shikaku.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	e.Tracking, e.SendOn = shikaku.TrackingNumber(toInt(tn)), toDate(send)
	if e.Kind == shikaku.KindResend {
		e.Certificates, err = t.certs(ctx, `c.certificate_id IN (SELECT certificate_id FROM events WHERE envelope_id = ? AND kind = 'resent')`, e.ID)
	} else {
		e.Certificates, err = t.certs(ctx, `c.envelope_id = ?`, e.ID)
	}
	return &e, err
}

func (t *Tx) EnvelopeByID(ctx context.Context, id string) (*shikaku.SentEnvelope, error) {
	return t.envelope(ctx, "envelope_id = ?", id)
}

func (t *Tx) EnvelopeByTracking(ctx context.Context, tn shikaku.TrackingNumber) (*shikaku.SentEnvelope, error) {
	return t.envelope(ctx, "tracking_no = ?", int64(tn))
}

func (t *Tx) Certificate(ctx context.Context, id string) (*shikaku.CertRecord, error) {
	cs, err := t.certs(ctx, `c.certificate_id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, shikaku.ErrNotFound
	}
	return cs[0], nil
}

func (t *Tx) MemberCertificates(ctx context.Context, k shikaku.MemberKey) ([]*shikaku.CertRecord, error) {
	return t.certs(ctx, `m.branch_code = ? AND m.symbol = ? AND m.number = ? AND m.branch_no = ?`, k.Branch, k.Symbol, k.Number, k.BranchNo)
}

func (t *Tx) Undelivered(ctx context.Context) ([]*shikaku.CertRecord, error) {
	return t.certs(ctx, `c.certificate_id IN (SELECT certificate_id FROM events WHERE branch_code = ? AND kind = 'undelivered')`, t.branch)
}

func (t *Tx) BatchEvents(ctx context.Context, batch string) ([]*shikaku.CertRecord, error) {
	return t.certs(ctx, `c.certificate_id IN (SELECT certificate_id FROM events WHERE branch_code = ? AND batch = ?)`, t.branch, batch)
}

func (t *Tx) Member(ctx context.Context, k shikaku.MemberKey) (*shikaku.Member, error) {
	m := shikaku.Member{Key: k}
	var rel, typ string
	var birth, acquired, lost, sched, dv, copay any
	err := t.tx.QueryRowContext(ctx, t.d.q(`SELECT id, relationship, insured_type, name, name_kana, birth_date, sex, acquired_on, lost_on,
			scheduled_loss_on, employer_code, postal_code, address, address_line2, dv, copay_rate, language
		FROM members WHERE branch_code = ? AND symbol = ? AND number = ? AND branch_no = ?`), k.Branch, k.Symbol, k.Number, k.BranchNo).Scan(
		&m.ID, &rel, &typ, &m.Name, &m.NameKana, &birth, &m.Sex, &acquired, &lost, &sched, &m.EmployerCode,
		&m.PostalCode, &m.Address, &m.AddressLine2, &dv, &copay, &m.Language)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, shikaku.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	m.Relationship, m.InsuredType = shikaku.Relationship(rel), shikaku.InsuredType(typ)
	m.BirthDate, m.AcquiredOn, m.LostOn, m.ScheduledLossOn = toDate(birth), toDate(acquired), toDate(lost), toDate(sched)
	m.DV, m.CopayRate = toBool(dv), int(toInt(copay))
	return &m, nil
}

func (t *Tx) Decision(ctx context.Context, k shikaku.MemberKey) (shikaku.ReasonCode, error) {
	var code string
	err := t.tx.QueryRowContext(ctx, t.d.q(`SELECT d.decision FROM decisions d JOIN members m ON m.id = d.member_id
		WHERE m.branch_code = ? AND m.symbol = ? AND m.number = ? AND m.branch_no = ?`), k.Branch, k.Symbol, k.Number, k.BranchNo).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", shikaku.ErrNotFound
	}
	return shikaku.ReasonCode(code), err
}

func (t *Tx) FindByKana(ctx context.Context, kana string, birth time.Time) ([]shikaku.MemberKey, error) {
	rows, err := t.query(ctx, `SELECT symbol, number, branch_no FROM members
		WHERE branch_code = ? AND birth_date = ? AND REPLACE(REPLACE(name_kana, ' ', ''), '　', '') = ?
		ORDER BY symbol, number, branch_no`, t.branch, t.d.date(birth), kana)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []shikaku.MemberKey
	for rows.Next() {
		k := shikaku.MemberKey{HouseholdKey: shikaku.HouseholdKey{Branch: t.branch}}
		if err := rows.Scan(&k.Symbol, &k.Number, &k.BranchNo); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (t *Tx) Losses(ctx context.Context, households []shikaku.HouseholdKey) ([]shikaku.Loss, error) {
	var out []shikaku.Loss
	seen := map[shikaku.HouseholdKey]bool{}
	for _, h := range households {
		if seen[h] {
			continue
		}
		seen[h] = true
		rows, err := t.query(ctx, `SELECT branch_no, lost_on, reason FROM losses
			WHERE branch_code = ? AND known = ? AND key_branch = ? AND symbol = ? AND number = ?`, t.branch, t.d.bool(true), h.Branch, h.Symbol, h.Number)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			l := shikaku.Loss{Key: shikaku.MemberKey{HouseholdKey: h}}
			var lost any
			if err := rows.Scan(&l.Key.BranchNo, &lost, &l.Reason); err != nil {
				rows.Close()
				return nil, err
			}
			l.LostOn = toDate(lost)
			out = append(out, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *Tx) Employer(ctx context.Context, code string) (*shikaku.Employer, error) {
	e := shikaku.Employer{Code: code}
	var closed any
	err := t.tx.QueryRowContext(ctx, t.d.q(`SELECT name, postal_code, address, address_line2, contact, closed_on FROM employers WHERE employer_code = ?`), code).Scan(
		&e.Name, &e.PostalCode, &e.Address, &e.AddressLine2, &e.Contact, &closed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, shikaku.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	e.ClosedOn = toDate(closed)
	return &e, nil
}

// Queryer and Execer are a database or a transaction.
type (
	Queryer interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
	Execer interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	}
)

// ReadCounters reads where a branch's sequences stand; the SQLite store's
// pack uses it too.
func ReadCounters(ctx context.Context, q Queryer, d Dialect, branch string) (shikaku.Counters, error) {
	c := shikaku.Counters{NextEnvelope: 1, NextCert: 1}
	rows, err := q.QueryContext(ctx, d.q(`SELECT name, value FROM counters WHERE branch_code = ?`), branch)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return c, err
		}
		switch name {
		case shikaku.CounterTracking:
			c.TrackingUsed = uint64(v)
		case shikaku.CounterEnvelope:
			c.NextEnvelope = v
		case shikaku.CounterCertificate:
			c.NextCert = v
		}
	}
	return c, rows.Err()
}

// WriteCounters stores where a branch's sequences stand.
func WriteCounters(ctx context.Context, ex Execer, d Dialect, branch string, c shikaku.Counters) error {
	for _, kv := range []struct {
		name string
		v    int64
	}{{shikaku.CounterTracking, int64(c.TrackingUsed)}, {shikaku.CounterEnvelope, c.NextEnvelope}, {shikaku.CounterCertificate, c.NextCert}} {
		if _, err := ex.ExecContext(ctx, d.q(`INSERT INTO counters (branch_code, name, value) VALUES (?, ?, ?)
			ON CONFLICT (branch_code, name) DO UPDATE SET value = excluded.value`), branch, kv.name, kv.v); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) Counters(ctx context.Context) (shikaku.Counters, error) {
	return ReadCounters(ctx, t.tx, t.d, t.branch)
}

func (t *Tx) SaveCounters(ctx context.Context, c shikaku.Counters) error {
	return WriteCounters(ctx, t.tx, t.d, t.branch, c)
}

func (t *Tx) SaveEnvelopes(ctx context.Context, kind string, envs []shikaku.Envelope) error {
	for _, e := range envs {
		if err := t.exec(ctx, `INSERT INTO envelopes (envelope_id, branch_code, kind, seq, symbol, number, addressee_no, employer_code,
				k, n, tracking_no, wave, send_on, postal_code, address, address_line2, certificates, language)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, t.branch, kind, e.Seq, e.Household.Symbol, e.Household.Number, e.Addressee.BranchNo, e.EmployerCode,
			e.K, e.N, int64(e.TrackingNumber), e.Wave, t.d.date(e.SendOn), e.To.PostalCode, e.To.Address, e.To.Line2, len(e.Certificates),
			e.Language); err != nil {
			return fmt.Errorf("封筒 %s を保存できません: %w", e.ID, err)
		}
		for i, c := range e.Certificates {
			if err := t.exec(ctx, `INSERT INTO certificates (certificate_id, envelope_id, position, member_id, branch_no, issued_on, valid_until)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, c.ID, e.ID, i+1, c.MemberID, c.Member.BranchNo, t.d.date(c.IssuedOn), t.d.date(c.ValidUntil)); err != nil {
				return fmt.Errorf("資格確認書 %s を保存できません: %w", c.ID, err)
			}
		}
	}
	return nil
}

func (t *Tx) AddEvents(ctx context.Context, es []shikaku.Event) error {
	for _, e := range es {
		if err := t.exec(ctx, `INSERT INTO events (branch_code, certificate_id, kind, on_date, envelope_id, tracking_no, reason, lost_on, batch, operator, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.branch, e.CertificateID, string(e.Kind), t.d.date(e.On), e.EnvelopeID,
			int64(e.TrackingNumber), e.Reason, t.d.date(e.LostOn), e.Batch, e.Operator, t.d.time(e.RecordedAt)); err != nil {
			return err
		}
	}
	return nil
}

// ReadSteps lists the steps done for a branch, in order; the SQLite
// store's Steps uses it too.
func ReadSteps(ctx context.Context, q Queryer, d Dialect, branch string) ([]shikaku.Step, error) {
	rows, err := q.QueryContext(ctx, d.q(`SELECT step, done_at, detail FROM steps WHERE branch_code = ? ORDER BY done_at, step`), branch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []shikaku.Step
	for rows.Next() {
		var st shikaku.Step
		var at any
		if err := rows.Scan(&st.Name, &at, &st.Detail); err != nil {
			return nil, err
		}
		st.DoneAt = toTime(at)
		out = append(out, st)
	}
	return out, rows.Err()
}

// SaveStep records that a step was done now, with its counts (JSON).
func SaveStep(ctx context.Context, ex Execer, d Dialect, branch, name, detail string) error {
	_, err := ex.ExecContext(ctx, d.q(`INSERT INTO steps (branch_code, step, done_at, detail) VALUES (?, ?, ?, ?)
		ON CONFLICT (branch_code, step) DO UPDATE SET done_at = excluded.done_at, detail = excluded.detail`),
		branch, name, d.time(time.Now()), detail)
	return err
}

func (t *Tx) Steps(ctx context.Context) ([]shikaku.Step, error) {
	return ReadSteps(ctx, t.tx, t.d, t.branch)
}

func (t *Tx) SaveStep(ctx context.Context, name, detail string) error {
	return SaveStep(ctx, t.tx, t.d, t.branch, name, detail)
}

// CertificateStates counts every certificate by state: those without
// events by their send date in SQL, the (few) others by folding their
// events.
func (t *Tx) CertificateStates(ctx context.Context, asOf time.Time) (map[shikaku.CertState]int, int, error) {
	states := map[shikaku.CertState]int{}
	var total int
	if err := t.tx.QueryRowContext(ctx, t.d.q(`SELECT COUNT(*) FROM certificates c JOIN envelopes e ON e.envelope_id = c.envelope_id
		WHERE e.branch_code = ?`), t.branch).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := t.query(ctx, `SELECT mailed, COUNT(*) FROM (
			SELECT CASE WHEN e.send_on <= ? THEN 1 ELSE 0 END AS mailed
			FROM certificates c JOIN envelopes e ON e.envelope_id = c.envelope_id
			WHERE e.branch_code = ? AND NOT EXISTS (SELECT 1 FROM events ev WHERE ev.certificate_id = c.certificate_id)) x
		GROUP BY mailed`, t.d.date(asOf), t.branch)
	if err != nil {
		return nil, 0, err
	}
	for rows.Next() {
		var mailed, n int64
		if err := rows.Scan(&mailed, &n); err != nil {
			rows.Close()
			return nil, 0, err
		}
		if mailed == 1 {
			states[shikaku.Mailed] += int(n)
		} else {
			states[shikaku.Planned] += int(n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	withEvents, err := t.certs(ctx, `c.certificate_id IN (SELECT certificate_id FROM events WHERE branch_code = ?)`, t.branch)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range withEvents {
		states[c.State(asOf)]++
	}
	return states, total, nil
}

func (t *Tx) LogAccess(ctx context.Context, a shikaku.Access) error {
	keys := make([]string, len(a.Persons))
	for i, k := range a.Persons {
		keys[i] = k.String()
	}
	return t.exec(ctx, `INSERT INTO access_log (branch_code, at, operator, query, persons) VALUES (?, ?, ?, ?, ?)`,
		t.branch, t.d.time(a.At), a.Operator, a.Query, strings.Join(keys, " "))
}

func (t *Tx) AccessLog(ctx context.Context, from, through time.Time) ([]shikaku.Access, error) {
	q := `SELECT at, operator, query, persons FROM access_log WHERE branch_code = ?`
	args := []any{t.branch}
	if !from.IsZero() {
		q += ` AND at >= ?`
		args = append(args, t.d.time(from))
	}
	if !through.IsZero() {
		q += ` AND at < ?`
		args = append(args, t.d.time(through.AddDate(0, 0, 1)))
	}
	rows, err := t.query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []shikaku.Access
	for rows.Next() {
		var a shikaku.Access
		var at any
		var persons string
		if err := rows.Scan(&at, &a.Operator, &a.Query, &persons); err != nil {
			return nil, err
		}
		a.At = toTime(at)
		for _, k := range strings.Fields(persons) {
			if mk, err := shikaku.ParseMemberKey(k); err == nil {
				a.Persons = append(a.Persons, mk)
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
