package shikaku

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// LifeTx is the view of the database the steps after sending work
// through: one transaction holding the branch, so that concurrent
// operators cannot record contradicting events or take the same number.
type LifeTx interface {
	Campaign() *Campaign
	// EnvelopeByID and EnvelopeByTracking find a mailed envelope or a
	// resend package, with its certificates (ErrNotFound if none).
	EnvelopeByID(ctx context.Context, id string) (*SentEnvelope, error)
	EnvelopeByTracking(ctx context.Context, tn TrackingNumber) (*SentEnvelope, error)
	// Certificate finds one certificate with its events (ErrNotFound).
	Certificate(ctx context.Context, id string) (*CertRecord, error)
	// MemberCertificates lists a member's certificates, oldest first.
	MemberCertificates(ctx context.Context, key MemberKey) ([]*CertRecord, error)
	// Undelivered lists the certificates with an undelivered event.
	Undelivered(ctx context.Context) ([]*CertRecord, error)
	// Member finds a member (ErrNotFound); Decision is the member's decision.
	Member(ctx context.Context, key MemberKey) (*Member, error)
	Decision(ctx context.Context, key MemberKey) (ReasonCode, error)
	// FindByKana lists the members with this kana name and birth date.
	FindByKana(ctx context.Context, kana string, birth time.Time) ([]MemberKey, error)
	// Losses are the recorded loss rows of known members of households.
	Losses(ctx context.Context, households []HouseholdKey) ([]Loss, error)
	Employer(ctx context.Context, code string) (*Employer, error)
	Counters(ctx context.Context) (Counters, error)
	SaveCounters(ctx context.Context, c Counters) error
	// SaveEnvelopes stores reissue envelopes (with their certificates) or
	// resend packages (without: their contents are resent events).
	SaveEnvelopes(ctx context.Context, kind string, envs []Envelope) error
	AddEvents(ctx context.Context, es []Event) error
	// BatchEvents lists the events a resend batch recorded, with their certificates.
	BatchEvents(ctx context.Context, batch string) ([]*CertRecord, error)
	Steps(ctx context.Context) ([]Step, error)
	SaveStep(ctx context.Context, name, detail string) error
	// CertificateStates counts every certificate of the branch by its
	// state at asOf, and counts the certificates on their own.
	CertificateStates(ctx context.Context, asOf time.Time) (states map[CertState]int, total int, err error)
	LogAccess(ctx context.Context, a Access) error
	// AccessLog lists the lookups recorded from one day through another
	// (zero: unbounded), oldest first.
	AccessLog(ctx context.Context, from, through time.Time) ([]Access, error)
}

// SentEnvelope is an envelope after packing: a household's (bulk or
// reissue) or a resend package to an employer.
type SentEnvelope struct {
	ID           string
	Kind         string
	Tracking     TrackingNumber
	SendOn       time.Time
	EmployerCode string
	Certificates []*CertRecord // bulk, reissue: its own; resend: the ones resent in it
}

// Access is one entry of the lookup access log.
type Access struct {
	At       time.Time
	Operator string
	Query    string
	Persons  []MemberKey
}

// ---- envelope and certificate IDs as operators type or scan them ----

// ParseEnvelopeRef reads an envelope ID (E4600000001) or a tracking
// number with or without hyphens; a tracking number's check digit is
// verified.
func ParseEnvelopeRef(raw string) (id string, tn TrackingNumber, err error) {
	s := strings.ToUpper(strings.TrimSpace(normalizeASCII(raw)))
	if strings.HasPrefix(s, "E") {
		if len(s) != 11 || !digits(s[1:], 10, 10) {
			return "", 0, fmt.Errorf("封筒番号 %q は E と10桁の数字（例: E4600000001）ではありません", raw)
		}
		return s, 0, nil
	}
	tn, err = ParseTrackingNumber(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q は封筒番号でもお問い合わせ番号でもありません: %w", raw, err)
	}
	return "", tn, nil
}

// ParseCertificateID reads a certificate ID (C4600000001) as scanned.
func ParseCertificateID(raw string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(normalizeASCII(raw)))
	if len(s) != 11 || s[0] != 'C' || !digits(s[1:], 10, 10) {
		return "", fmt.Errorf("資格確認書番号 %q は C と10桁の数字（例: C4600000001）ではありません", raw)
	}
	return s, nil
}

// normalizeASCII turns full-width ASCII (ＥＡ１-) into half-width.
func normalizeASCII(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '！' && r <= '～':
			return r - '！' + '!'
		case r == 'ー' || r == '－' || r == '‐':
			return '-'
		}
		return r
	}, s)
}

func resolveEnvelope(ctx context.Context, tx LifeTx, raw string) (*SentEnvelope, error) {
	id, tn, err := ParseEnvelopeRef(raw)
	if err != nil {
		return nil, err
	}
	var e *SentEnvelope
	if id != "" {
		e, err = tx.EnvelopeByID(ctx, id)
	} else {
		e, err = tx.EnvelopeByTracking(ctx, tn)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%s に当たる封筒はこの支部にありません", strings.TrimSpace(raw))
	}
	return e, err
}

// ---- undelivered ----

// Scan is one envelope (ID or tracking number) reported back, or one
// certificate ID, with the date and reason.
type Scan struct {
	Line   int // line of the file (0: the command line)
	Raw    string
	Reason string
	On     time.Time
}

func (s Scan) where() string {
	if s.Line > 0 {
		return fmt.Sprintf("%d行目 %s", s.Line, strings.TrimSpace(s.Raw))
	}
	return strings.TrimSpace(s.Raw)
}

// Outcome is what a scan did.
type Outcome struct {
	Scan       Scan
	EnvelopeID string
	Changed    int // certificates whose state changed
	Unchanged  int // already recorded: nothing changed
	Skipped    []string
}

// ScanError lists every scan that was refused; nothing was recorded.
type ScanError struct{ Problems []string }

func (e *ScanError) Error() string {
	return fmt.Sprintf("%d 件の番号を記録できません（何も記録していません）:\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// RecordUndelivered records envelopes that came back (不着). An envelope
// to a household makes its certificates undelivered; a resend package
// that comes back makes its certificates held (住所調査). All scans are
// checked first: one bad scan records nothing.
func RecordUndelivered(ctx context.Context, tx LifeTx, scans []Scan, operator string, now time.Time) ([]Outcome, error) {
	var problems []string
	var events []Event
	var outs []Outcome
	seen := map[string]*SentEnvelope{}
	for _, sc := range scans {
		e, err := resolveEnvelope(ctx, tx, sc.Raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", sc.where(), err))
			continue
		}
		if prev, ok := seen[e.ID]; ok {
			e = prev // the same envelope twice in one batch: the second changes nothing
		}
		seen[e.ID] = e
		if sc.On.Before(e.SendOn) {
			problems = append(problems, fmt.Sprintf("%s: 封筒 %s は %s 発送のため、%s の不着は記録できません", sc.where(), e.ID, day(e.SendOn), day(sc.On)))
			continue
		}
		out := Outcome{Scan: sc, EnvelopeID: e.ID}
		kind, reason := EventUndelivered, sc.Reason
		if e.Kind == KindResend {
			kind, reason = EventHeld, HeldReturnedAgain
		}
		var refused []string
		for _, c := range e.Certificates {
			ev := Event{On: sc.On, Kind: kind, CertificateID: c.ID, EnvelopeID: e.ID, TrackingNumber: e.Tracking,
				Reason: reason, Operator: operator, RecordedAt: now}
			err := c.addEvent(ev)
			var nc ErrNoChange
			switch {
			case err == nil:
				out.Changed++
				events = append(events, ev)
			case errors.As(err, &nc):
				out.Unchanged++
			default:
				refused = append(refused, fmt.Sprintf("%s（%s）", c.ID, c.State(sc.On).Label()))
			}
		}
		if out.Changed == 0 && out.Unchanged == 0 {
			problems = append(problems, fmt.Sprintf("%s: 封筒 %s の資格確認書はどれも不着として記録できる状態ではありません: %s", sc.where(), e.ID, strings.Join(refused, ", ")))
			continue
		}
		out.Skipped = refused
		outs = append(outs, out)
	}
	return commitScans(ctx, tx, problems, events, outs)
}

// commitScans records the events of a batch of scans, unless any scan
// was refused: then nothing is recorded and every problem is listed.
func commitScans(ctx context.Context, tx LifeTx, problems []string, events []Event, outs []Outcome) ([]Outcome, error) {
	if len(problems) > 0 {
		return nil, &ScanError{Problems: problems}
	}
	if err := tx.AddEvents(ctx, events); err != nil {
		return nil, err
	}
	return outs, nil
}

// RecordCertificates records returned (返却) or destroyed (廃棄)
// certificates by ID. All scans are checked first.
func RecordCertificates(ctx context.Context, tx LifeTx, kind EventKind, scans []Scan, operator string, now time.Time) ([]Outcome, error) {
	var problems []string
	var events []Event
	var outs []Outcome
	seen := map[string]*CertRecord{}
	for _, sc := range scans {
		id, err := ParseCertificateID(sc.Raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", sc.where(), err))
			continue
		}
		c, ok := seen[id]
		if !ok {
			c, err = tx.Certificate(ctx, id)
			if errors.Is(err, ErrNotFound) {
				problems = append(problems, fmt.Sprintf("%s: 資格確認書 %s はこの支部にありません", sc.where(), id))
				continue
			} else if err != nil {
				return nil, err
			}
			seen[id] = c
		}
		ev := Event{On: sc.On, Kind: kind, CertificateID: id, EnvelopeID: c.EnvelopeID, TrackingNumber: c.Tracking,
			Reason: sc.Reason, Operator: operator, RecordedAt: now}
		out := Outcome{Scan: sc, EnvelopeID: c.EnvelopeID}
		err = c.addEvent(ev)
		var nc ErrNoChange
		switch {
		case err == nil:
			out.Changed = 1
			events = append(events, ev)
		case errors.As(err, &nc):
			out.Unchanged = 1
		default:
			problems = append(problems, fmt.Sprintf("%s: %v", sc.where(), err))
			continue
		}
		outs = append(outs, out)
	}
	return commitScans(ctx, tx, problems, events, outs)
}

// ---- monthly resend to employers ----

// ResendBatch is one month's resend: packages to employers, held and
// voided certificates.
type ResendBatch struct {
	Month    string // 2025-09
	On       time.Time
	Packages []ResendPackage
	Held     []HeldCertificate
	Voided   []VoidedCertificate
	Existing bool // the month's batch had been built before: nothing new was sent
}

// ResendPackage is one envelope to an employer.
type ResendPackage struct {
	Envelope Envelope
	Employer Employer
	Items    []*CertRecord // the certificates resent, with their original envelopes
}

// HeldCertificate is an undelivered certificate kept for 住所調査.
type HeldCertificate struct {
	Cert   *CertRecord
	Reason string
}

// VoidedCertificate is an undelivered certificate of a member who lost
// eligibility on or before the resend.
type VoidedCertificate struct {
	Cert   *CertRecord
	LostOn time.Time
}

// ResendStep is the step name of a month's resend.
func ResendStep(month string) string { return "resend " + month }

// Resend builds the resend batch of the month of on: every undelivered
// certificate not yet resent goes to its household's employer, one
// package (one new tracking number) per employer; members who lost
// eligibility by then are voided; households without an employer, with
// a closed employer, or of a DV-registered member are held. A month's
// batch is built once: run again, it returns the same batch, marked
// Existing, and sends nothing.
func Resend(ctx context.Context, tx LifeTx, on time.Time, operator string, now time.Time) (*ResendBatch, error) {
	c := tx.Campaign()
	month := on.Format("2006-01")
	steps, err := tx.Steps(ctx)
	if err != nil {
		return nil, err
	}
	packed := false
	for _, st := range steps {
		if st.Name == StepPack {
			packed = true
		}
		m, ok := strings.CutPrefix(st.Name, "resend ")
		if !ok {
			continue
		}
		if m == month {
			return rebuildBatch(ctx, tx, month, st)
		}
		if m > month {
			return nil, fmt.Errorf("%s の再送がすでに作成されています。それより前の月（%s）の再送は作れません", m, month)
		}
	}
	if !packed {
		return nil, fmt.Errorf("まだ封入（pack）されていません")
	}
	if first := c.Waves[0].SendOn; on.Before(first) {
		return nil, fmt.Errorf("再送日 %s は最初の送付日 %s より前です", day(on), day(first))
	}
	all, err := tx.Undelivered(ctx)
	if err != nil {
		return nil, err
	}
	var due []*CertRecord
	var households []HouseholdKey
	for _, cr := range all {
		if cr.State(on) == Undelivered {
			due = append(due, cr)
			households = append(households, cr.Member.HouseholdKey)
		}
	}
	losses, err := tx.Losses(ctx, households)
	if err != nil {
		return nil, err
	}
	lostOn := map[MemberKey]time.Time{}
	for _, l := range losses {
		if old, ok := lostOn[l.Key]; !ok || l.LostOn.Before(old) {
			lostOn[l.Key] = l.LostOn
		}
	}
	memberLost := func(k MemberKey) (time.Time, bool) {
		d, ok := lostOn[k]
		if h, hok := lostOn[MemberKey{k.HouseholdKey, InsuredBranchNo}]; hok && (!ok || h.Before(d)) {
			d, ok = h, true
		}
		return d, ok && !d.After(on)
	}
	b := &ResendBatch{Month: month, On: on}
	byEmployer := map[string][]*CertRecord{}
	employers := map[string]*Employer{}
	var events []Event
	ev := func(cr *CertRecord, kind EventKind, reason string) Event {
		return Event{On: on, Kind: kind, CertificateID: cr.ID, EnvelopeID: cr.EnvelopeID, TrackingNumber: cr.Tracking,
			Reason: reason, Operator: operator, RecordedAt: now}
	}
	for _, cr := range due {
		if d, lost := memberLost(cr.Member); lost {
			e := ev(cr, EventVoided, "資格喪失 "+day(d))
			e.LostOn = d
			events = append(events, e)
			b.Voided = append(b.Voided, VoidedCertificate{cr, d})
			continue
		}
		reason := ""
		switch {
		case cr.DV:
			reason = HeldDV
		case cr.EmployerCode == "":
			reason = HeldNoEmployer
		default:
			emp, ok := employers[cr.EmployerCode]
			if !ok {
				emp, err = tx.Employer(ctx, cr.EmployerCode)
				if errors.Is(err, ErrNotFound) {
					emp = nil
				} else if err != nil {
					return nil, err
				}
				employers[cr.EmployerCode] = emp
			}
			if emp == nil || (!emp.ClosedOn.IsZero() && !emp.ClosedOn.After(on)) {
				reason = HeldEmployerClosed
			}
		}
		if reason != "" {
			events = append(events, ev(cr, EventHeld, reason))
			b.Held = append(b.Held, HeldCertificate{cr, reason})
			continue
		}
		byEmployer[cr.EmployerCode] = append(byEmployer[cr.EmployerCode], cr)
	}
	codes := make([]string, 0, len(byEmployer))
	for code := range byEmployer {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	counters, err := tx.Counters(ctx)
	if err != nil {
		return nil, err
	}
	alloc := &TrackingAllocator{Ranges: c.Mail.TrackingRanges, Used: counters.TrackingUsed}
	if err := alloc.Reserve(uint64(len(codes))); err != nil {
		return nil, err
	}
	var envs []Envelope
	for _, code := range codes {
		items := byEmployer[code]
		sort.Slice(items, func(i, j int) bool {
			if items[i].EnvelopeID != items[j].EnvelopeID {
				return items[i].EnvelopeID < items[j].EnvelopeID
			}
			return items[i].ID < items[j].ID
		})
		tn, err := alloc.Next()
		if err != nil {
			return nil, err
		}
		emp := employers[code]
		env := Envelope{ID: EnvelopeID(c.BranchCode, counters.NextEnvelope), EmployerCode: code,
			To: MailAddress{emp.PostalCode, emp.Address, emp.AddressLine2}, K: 1, N: 1, Seq: counters.NextEnvelope,
			TrackingNumber: tn, SendOn: on}
		counters.NextEnvelope++
		envs = append(envs, env)
		for _, cr := range items {
			e := ev(cr, EventResent, "")
			e.EnvelopeID, e.TrackingNumber = env.ID, tn
			events = append(events, e)
		}
		b.Packages = append(b.Packages, ResendPackage{Envelope: env, Employer: *emp, Items: items})
	}
	for i := range events {
		events[i].Batch = month
	}
	counters.TrackingUsed = alloc.Used
	if err := tx.SaveEnvelopes(ctx, KindResend, envs); err != nil {
		return nil, err
	}
	if err := tx.SaveCounters(ctx, counters); err != nil {
		return nil, err
	}
	if err := tx.AddEvents(ctx, events); err != nil {
		return nil, err
	}
	detail, _ := json.Marshal(map[string]any{"on": day(on), "packages": len(b.Packages), "resent": len(events) - len(b.Held) - len(b.Voided),
		"held": len(b.Held), "voided": len(b.Voided)})
	if err := tx.SaveStep(ctx, ResendStep(month), string(detail)); err != nil {
		return nil, err
	}
	return b, nil
}

// rebuildBatch reads back a month's batch from its recorded events.
func rebuildBatch(ctx context.Context, tx LifeTx, month string, st Step) (*ResendBatch, error) {
	var d struct {
		On string `json:"on"`
	}
	json.Unmarshal([]byte(st.Detail), &d)
	on, _ := time.Parse(time.DateOnly, d.On)
	b := &ResendBatch{Month: month, On: on, Existing: true}
	certs, err := tx.BatchEvents(ctx, month)
	if err != nil {
		return nil, err
	}
	pkgs := map[string]*ResendPackage{}
	var order []string
	for _, cr := range certs {
		for _, e := range cr.Events {
			if e.Batch != month {
				continue
			}
			switch e.Kind {
			case EventVoided:
				b.Voided = append(b.Voided, VoidedCertificate{cr, e.LostOn})
			case EventHeld:
				b.Held = append(b.Held, HeldCertificate{cr, e.Reason})
			case EventResent:
				p, ok := pkgs[e.EnvelopeID]
				if !ok {
					emp, err := tx.Employer(ctx, cr.EmployerCode)
					if err != nil {
						return nil, err
					}
					p = &ResendPackage{Envelope: Envelope{ID: e.EnvelopeID, EmployerCode: cr.EmployerCode, TrackingNumber: e.TrackingNumber,
						SendOn: e.On, K: 1, N: 1, To: MailAddress{emp.PostalCode, emp.Address, emp.AddressLine2}}, Employer: *emp}
					pkgs[e.EnvelopeID] = p
					order = append(order, e.EnvelopeID)
				}
				p.Items = append(p.Items, cr)
			}
		}
	}
	sort.Strings(order)
	for _, id := range order {
		b.Packages = append(b.Packages, *pkgs[id])
	}
	return b, nil
}

// ---- reissue ----

// ReissueRequest is an operator's request for a new certificate (再交付).
type ReissueRequest struct {
	Member   MemberKey
	On       time.Time
	To       MailAddress
	Name     string // addressee; the member's name if empty
	Reason   string
	Operator string
}

// Reissue issues a new certificate to one member, mailed alone in its own
// envelope with its own tracking number to the address given, and
// supersedes the member's older certificates. A DV-registered member's
// certificate never goes to the household's address.
func Reissue(ctx context.Context, tx LifeTx, r ReissueRequest, now time.Time) (*Mailing, error) {
	c := tx.Campaign()
	m, err := tx.Member(ctx, r.Member)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("加入者 %s はこの支部にいません", r.Member)
	} else if err != nil {
		return nil, err
	}
	insured := m
	if !r.Member.Insured() {
		if insured, err = tx.Member(ctx, MemberKey{r.Member.HouseholdKey, InsuredBranchNo}); err != nil {
			return nil, err
		}
	}
	if r.To.PostalCode == "" || r.To.Address == "" {
		return nil, fmt.Errorf("送付先の郵便番号と住所を指定してください")
	}
	if !digits(r.To.PostalCode, 7, 7) {
		return nil, fmt.Errorf("郵便番号 %q は7桁の数字ではありません", r.To.PostalCode)
	}
	if (m.DV || insured.DV) && sameAddress(r.To, MailAddress{insured.PostalCode, insured.Address, insured.AddressLine2}) {
		return nil, fmt.Errorf("加入者 %s は DV 登録があるため、世帯の住所には送付できません。本人から申し出のあった別の送付先を指定してください", r.Member)
	}
	for _, lost := range []time.Time{m.LostOn, insured.LostOn} {
		if !lost.IsZero() && !lost.After(r.On) {
			return nil, fmt.Errorf("加入者 %s は %s に資格を喪失しているため再交付できません", r.Member, day(lost))
		}
	}
	losses, err := tx.Losses(ctx, []HouseholdKey{r.Member.HouseholdKey})
	if err != nil {
		return nil, err
	}
	for _, l := range losses {
		if (l.Key == r.Member || l.Key.Insured()) && !l.LostOn.After(r.On) {
			return nil, fmt.Errorf("加入者 %s は資格喪失データ（%s 喪失）があるため再交付できません", r.Member, day(l.LostOn))
		}
	}
	if !c.ValidUntil.After(r.On) {
		return nil, fmt.Errorf("再交付日 %s は資格確認書の有効期限 %s 以降です", day(r.On), day(c.ValidUntil))
	}
	older, err := tx.MemberCertificates(ctx, r.Member)
	if err != nil {
		return nil, err
	}
	var events []Event
	for _, o := range older {
		if !r.On.After(o.IssuedOn) {
			return nil, fmt.Errorf("再交付日 %s は交付済みの資格確認書 %s の交付年月日 %s より後にしてください（新しい交付年月日のものが有効になります）", day(r.On), o.ID, day(o.IssuedOn))
		}
	}
	counters, err := tx.Counters(ctx)
	if err != nil {
		return nil, err
	}
	alloc := &TrackingAllocator{Ranges: c.Mail.TrackingRanges, Used: counters.TrackingUsed}
	tn, err := alloc.Next()
	if err != nil {
		return nil, err
	}
	name := r.Name
	if name == "" {
		name = m.Name
	}
	cert := Certificate{ID: CertificateID(c.BranchCode, counters.NextCert), Member: r.Member, MemberID: m.ID,
		IssuedOn: r.On, ValidUntil: ValidUntil(c.ValidUntil, m, insured)}
	env := Envelope{ID: EnvelopeID(c.BranchCode, counters.NextEnvelope), Household: r.Member.HouseholdKey, Addressee: r.Member,
		EmployerCode: EmployerOf(insured), To: r.To, K: 1, N: 1, Seq: counters.NextEnvelope, TrackingNumber: tn, SendOn: r.On,
		Certificates: []Certificate{cert}}
	counters.NextCert++
	counters.NextEnvelope++
	counters.TrackingUsed = alloc.Used
	for _, o := range older {
		e := Event{On: r.On, Kind: EventSuperseded, CertificateID: o.ID, EnvelopeID: env.ID, TrackingNumber: tn,
			Reason: "再交付 " + cert.ID, Operator: r.Operator, RecordedAt: now}
		if _, err := Transition(o.State(r.On), EventSuperseded); err == nil {
			events = append(events, e)
		}
	}
	events = append(events, Event{On: r.On, Kind: EventReissued, CertificateID: cert.ID, EnvelopeID: env.ID, TrackingNumber: tn,
		Reason: r.Reason, Operator: r.Operator, RecordedAt: now})
	env.Language = FlyerLanguage(m)
	if err := tx.SaveEnvelopes(ctx, KindReissue, []Envelope{env}); err != nil {
		return nil, err
	}
	if err := tx.SaveCounters(ctx, counters); err != nil {
		return nil, err
	}
	if err := tx.AddEvents(ctx, events); err != nil {
		return nil, err
	}
	return &Mailing{Envelope: env, AddresseeName: name, Language: env.Language, Cards: []Card{{
		Certificate: cert, Name: m.Name, NameKana: m.NameKana, BirthDate: m.BirthDate, Sex: m.Sex,
		Relationship: m.Relationship, AcquiredOn: m.AcquiredOn, CopayRate: m.CopayRate}}}, nil
}

// sameAddress compares addresses as written, ignoring spaces, hyphen
// styles and the postal code (a wrong postal code must not let mail go to
// the household's address).
func sameAddress(a, b MailAddress) bool {
	norm := func(s string) string {
		s = normalizeASCII(s)
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '　' || r == '-' {
				return -1
			}
			return r
		}, s)
	}
	return norm(a.Address) == norm(b.Address)
}
