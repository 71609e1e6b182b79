package shikaku

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// LookupQuery is what a call-center operator searches by: a member key,
// an envelope (ID or tracking number), a certificate ID, or kana with the
// birth date.
type LookupQuery struct {
	Text  string // as typed, for the access log
	Key   *MemberKey
	Ref   string // envelope ID or tracking number
	Cert  string
	Kana  string
	Birth time.Time
}

// Person is one member as a lookup shows them.
type Person struct {
	Member       *Member
	Decision     ReasonCode
	Certificates []*CertRecord
}

// Lookup finds the persons a query names and writes the access log
// entry (operator, time, query, persons shown) in the same transaction.
func Lookup(ctx context.Context, tx LifeTx, q LookupQuery, operator string, now time.Time) ([]*Person, error) {
	if strings.TrimSpace(operator) == "" {
		return nil, errors.New("照会には担当者名が必要です（--operator または環境変数 SHIKAKU_OPERATOR）")
	}
	var keys []MemberKey
	switch {
	case q.Key != nil:
		keys = []MemberKey{*q.Key}
	case q.Ref != "":
		e, err := resolveEnvelope(ctx, tx, q.Ref)
		if err != nil {
			return nil, err
		}
		for _, c := range e.Certificates {
			keys = appendKey(keys, c.Member)
		}
	case q.Cert != "":
		c, err := tx.Certificate(ctx, q.Cert)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("資格確認書 %s はこの支部にありません", q.Cert)
		} else if err != nil {
			return nil, err
		}
		keys = []MemberKey{c.Member}
	default:
		var err error
		if keys, err = tx.FindByKana(ctx, q.Kana, q.Birth); err != nil {
			return nil, err
		}
	}
	var out []*Person
	for _, k := range keys {
		m, err := tx.Member(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		p := &Person{Member: m}
		if p.Decision, err = tx.Decision(ctx, k); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if p.Certificates, err = tx.MemberCertificates(ctx, k); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	shown := make([]MemberKey, len(out))
	for i, p := range out {
		shown[i] = p.Member.Key
	}
	if err := tx.LogAccess(ctx, Access{At: now, Operator: operator, Query: q.Text, Persons: shown}); err != nil {
		return nil, err
	}
	return out, nil
}

func appendKey(ks []MemberKey, k MemberKey) []MemberKey {
	for _, o := range ks {
		if o == k {
			return ks
		}
	}
	return append(ks, k)
}

// ---- campaign status ----

// ScheduleStep is one step of the campaign's schedule (campaign.md).
type ScheduleStep struct {
	Name   string    `json:"name"`
	Label  string    `json:"label"`
	DueOn  time.Time `json:"-"`
	DoneOn time.Time `json:"-"`
	Detail string    `json:"-"`
}

// Status is where a campaign stands on its schedule, with the
// reconciliation of its counts.
type Status struct {
	AsOf           time.Time
	Steps          []ScheduleStep
	Next           *ScheduleStep
	Reconciliation Reconciliation
}

// Reconciliation checks that the counts add up: every member has one
// decision, every certificate one state.
type Reconciliation struct {
	Members      int
	Decisions    map[ReasonCode]int
	Decided      int // the sum of Decisions
	Certificates int
	States       map[CertState]int
	InStates     int // the sum of States
	Balanced     bool
	Problems     []string
}

// NewStatus builds the status of campaign c from its steps done, the
// summary counts and the certificates by state.
func NewStatus(c *Campaign, steps []Step, sum *Summary, states map[CertState]int, certificates int, asOf time.Time) *Status {
	done := map[string]Step{}
	var resends []Step
	for _, st := range steps {
		done[st.Name] = st
		if strings.HasPrefix(st.Name, "resend ") {
			resends = append(resends, st)
		}
	}
	doneOn := func(name string) time.Time {
		if st, ok := done[name]; ok {
			return dateOf(st.DoneAt)
		}
		return time.Time{}
	}
	s := &Status{AsOf: asOf}
	add := func(name, label string, due, doneDay time.Time) {
		s.Steps = append(s.Steps, ScheduleStep{Name: name, Label: label, DueOn: due, DoneOn: doneDay, Detail: done[name].Detail})
	}
	add(StepImport, "加入者データの取込", c.Dates.DataAsOf, doneOn(StepImport))
	add(StepExtract, "送付対象者の抽出", c.Dates.ExtractedOn, doneOn(StepExtract))
	add(StepCrossMatch, "資格喪失者データとの突合", c.Dates.LossExtractedOn, doneOn(StepCrossMatch))
	add(StepPack, "封入・お問い合わせ番号の確定", c.Dates.EmployerListOn, doneOn(StepPack))
	add(StepExport, "対象者一覧表・印刷データの出力", c.Dates.EmployerListOn, doneOn(StepExport))
	packed := !doneOn(StepPack).IsZero()
	for i, w := range c.Waves {
		var d time.Time
		if packed && !asOf.Before(w.SendOn) {
			d = w.SendOn // mailed on the wave's date, with no further command
		}
		add(fmt.Sprintf("mail wave %d", i+1), fmt.Sprintf("第%d回 個人宛送付", i+1), w.SendOn, d)
	}
	// Resends: the ones done, then the next month's.
	last := c.Waves[len(c.Waves)-1].SendOn
	next := last.AddDate(0, 1, 0)
	for _, st := range resends {
		month := strings.TrimPrefix(st.Name, "resend ")
		due, _ := time.Parse("2006-01", month)
		add(st.Name, month+" 事業所あて再送", due, dateOf(st.DoneAt))
		if m := due.AddDate(0, 1, 0); m.After(next) {
			next = m
		}
	}
	if !next.After(c.Dates.CardLastValidOn.AddDate(0, 1, 0)) {
		add(ResendStep(next.Format("2006-01")), next.Format("2006-01")+" 事業所あて再送", time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, time.UTC), time.Time{})
	}
	var end time.Time
	if asOf.After(c.Dates.CardLastValidOn) {
		end = c.Dates.CardLastValidOn.AddDate(0, 0, 1)
	}
	add("card_last_valid", "健康保険証の使用終了（"+day(c.Dates.CardLastValidOn)+" まで）", c.Dates.CardLastValidOn.AddDate(0, 0, 1), end)
	for i := range s.Steps {
		if s.Steps[i].DoneOn.IsZero() {
			s.Next = &s.Steps[i]
			break
		}
	}

	r := Reconciliation{Members: sum.Members, Decisions: sum.Decisions, Certificates: certificates, States: map[CertState]int{}}
	for _, n := range sum.Decisions {
		r.Decided += n
	}
	for _, st := range CertStates {
		r.States[st] = states[st]
		r.InStates += states[st]
	}
	if r.Decided != r.Members {
		r.Problems = append(r.Problems, fmt.Sprintf("判定の合計 %d 件が加入者 %d 名と一致しません", r.Decided, r.Members))
	}
	if r.InStates != r.Certificates {
		r.Problems = append(r.Problems, fmt.Sprintf("状態別の合計 %d 枚が資格確認書 %d 枚と一致しません", r.InStates, r.Certificates))
	}
	if bulk := sum.Certificates; bulk > r.Certificates || bulk != sum.Decisions[Target] && packed {
		r.Problems = append(r.Problems, fmt.Sprintf("一括発行の資格確認書 %d 枚が送付対象 %d 名と一致しません", bulk, sum.Decisions[Target]))
	}
	r.Balanced = len(r.Problems) == 0
	s.Reconciliation = r
	return s
}

func dateOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.Local()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
