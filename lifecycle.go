package shikaku

import (
	"fmt"
	"sort"
	"time"
)

// CertState is where a certificate stands after packing (interface.md).
// It is derived from the certificate's send date and its events.
type CertState string

const (
	Planned     CertState = "planned"     // packed, its envelope not yet mailed
	Mailed      CertState = "mailed"      // mailed on its send date
	Undelivered CertState = "undelivered" // its envelope came back (不着)
	Resent      CertState = "resent"      // sent again, to the employer
	Held        CertState = "held"        // kept for 住所調査
	Voided      CertState = "voided"      // the member lost eligibility before it could be resent
	Returned    CertState = "returned"    // came back in the reply envelope (返却)
	Destroyed   CertState = "destroyed"   // 廃棄
	Superseded  CertState = "superseded"  // a newer certificate was issued to the member
)

// CertStates lists every state, in lifecycle order.
var CertStates = []CertState{Planned, Mailed, Undelivered, Resent, Held, Voided, Returned, Destroyed, Superseded}

// Label is the state in Japanese.
func (s CertState) Label() string {
	switch s {
	case Planned:
		return "発送前"
	case Mailed:
		return "発送済み"
	case Undelivered:
		return "不着（返送あり）"
	case Resent:
		return "事業所あて再送済み"
	case Held:
		return "住所調査のため保留"
	case Voided:
		return "資格喪失により無効"
	case Returned:
		return "返却済み"
	case Destroyed:
		return "廃棄済み"
	case Superseded:
		return "新しい資格確認書の交付により無効"
	}
	return string(s)
}

// EventKind is what happened to a certificate.
type EventKind string

const (
	EventMailed      EventKind = "mailed" // derived from the send date, never stored
	EventUndelivered EventKind = "undelivered"
	EventResent      EventKind = "resent"
	EventHeld        EventKind = "held"
	EventVoided      EventKind = "voided"
	EventReturned    EventKind = "returned"
	EventDestroyed   EventKind = "destroyed"
	EventSuperseded  EventKind = "superseded"
	EventReissued    EventKind = "reissued" // the certificate was issued as a reissue (再交付)
)

// Label is the event in Japanese.
func (k EventKind) Label() string {
	switch k {
	case EventMailed:
		return "発送"
	case EventUndelivered:
		return "不着"
	case EventResent:
		return "事業所あて再送"
	case EventHeld:
		return "住所調査のため保留"
	case EventVoided:
		return "資格喪失により無効"
	case EventReturned:
		return "返却"
	case EventDestroyed:
		return "廃棄"
	case EventSuperseded:
		return "新しい資格確認書を交付"
	case EventReissued:
		return "再交付"
	}
	return string(k)
}

// Held reasons (held.csv).
const (
	HeldNoEmployer     = "no_employer"     // voluntary household: no employer to send to
	HeldEmployerClosed = "employer_closed" // the employer closed (全喪) on or before the resend
	HeldReturnedAgain  = "returned_again"  // the package to the employer came back too
	HeldDV             = "dv"              // a DV-registered member's mail never goes to the employer
)

// HeldReasonLabel is a held reason in Japanese.
func HeldReasonLabel(r string) string {
	switch r {
	case HeldNoEmployer:
		return "事業所なし（任意継続）"
	case HeldEmployerClosed:
		return "事業所が廃止（全喪）"
	case HeldReturnedAgain:
		return "事業所あての再送も不着"
	case HeldDV:
		return "DV登録のため事業所へは送らない"
	}
	return r
}

// Event is one dated fact about a certificate.
type Event struct {
	ID             int64
	On             time.Time // the day it happened
	Kind           EventKind
	CertificateID  string
	EnvelopeID     string // the envelope it concerns (the original, or a resend package)
	TrackingNumber TrackingNumber
	Reason         string
	LostOn         time.Time // voided: the member's loss date
	Batch          string    // the resend batch (month) that recorded it
	Operator       string
	RecordedAt     time.Time
}

// CertRecord is a certificate with its envelope and events: what the
// lifecycle needs to know of it.
type CertRecord struct {
	Certificate
	Name         string
	Relationship Relationship
	DV           bool
	EnvelopeID   string
	EnvelopeKind string // bulk, reissue
	Tracking     TrackingNumber
	SendOn       time.Time // the day its envelope is mailed
	EmployerCode string    // the household's employer ("" voluntary)
	Events       []Event   // in order
}

// Envelope kinds.
const (
	KindBulk    = "bulk"    // the campaign's mailing
	KindReissue = "reissue" // one reissued certificate, mailed alone
	KindResend  = "resend"  // a package of undelivered envelopes to an employer
)

// State is the certificate's state at the end of day asOf.
func (c *CertRecord) State(asOf time.Time) CertState {
	s := Planned
	if !asOf.Before(c.SendOn) {
		s = Mailed
	}
	for _, e := range c.Events {
		if e.On.After(asOf) {
			break
		}
		if n, err := Transition(s, e.Kind); err == nil {
			s = n
		}
	}
	return s
}

// LastEventOn is the date of the latest event (or the send date).
func (c *CertRecord) LastEventOn() time.Time {
	last := c.SendOn
	for _, e := range c.Events {
		if e.On.After(last) {
			last = e.On
		}
	}
	return last
}

// ErrNoChange reports an event that is already recorded: recording it
// again changes nothing.
type ErrNoChange struct{ State CertState }

func (e ErrNoChange) Error() string {
	return "すでに「" + e.State.Label() + "」として記録されています"
}

// Transition is the state after event k in state s, or why k is refused.
// Where the physical card is decides: one with the member or employer
// can come back (returned); one back at the insurer (undelivered, held,
// voided) can be destroyed; a destroyed or returned one never goes out
// again.
func Transition(s CertState, k EventKind) (CertState, error) {
	refuse := func(why string) (CertState, error) {
		return s, fmt.Errorf("「%s」の資格確認書に「%s」は記録できません: %s", s.Label(), k.Label(), why)
	}
	switch k {
	case EventUndelivered:
		switch s {
		case Mailed:
			return Undelivered, nil
		case Undelivered:
			return s, ErrNoChange{s}
		case Planned:
			return refuse("まだ発送されていません")
		}
		return refuse("不着として扱える状態ではありません")
	case EventResent:
		if s == Undelivered {
			return Resent, nil
		}
		return refuse("再送できるのは不着のものだけです")
	case EventHeld:
		switch s {
		case Undelivered, Resent:
			return Held, nil
		case Held:
			return s, ErrNoChange{s}
		}
		return refuse("保留にできるのは不着または再送したものだけです")
	case EventVoided:
		if s == Undelivered {
			return Voided, nil
		}
		return refuse("無効にできるのは不着で協会に戻っているものだけです")
	case EventReturned:
		switch s {
		case Mailed, Resent, Superseded:
			return Returned, nil
		case Returned, Destroyed:
			return s, ErrNoChange{s}
		case Planned:
			return refuse("まだ発送されていません")
		}
		return refuse("不着で協会に戻っているため、返却ではなく廃棄（destroy）を記録してください")
	case EventDestroyed:
		switch s {
		case Returned, Undelivered, Held, Voided:
			return Destroyed, nil
		case Destroyed:
			return s, ErrNoChange{s}
		}
		return refuse("協会の手元にないため廃棄できません。返却された場合は先に返却（return）を記録してください")
	case EventSuperseded:
		switch s {
		case Planned, Mailed, Undelivered, Resent, Held:
			return Superseded, nil
		case Superseded:
			return s, ErrNoChange{s}
		}
		return s, ErrNoChange{s} // returned, destroyed, voided: already not valid
	case EventReissued:
		return s, nil
	}
	return refuse("知らない記録の種類です")
}

// Valid reports whether a certificate in state s is the one the member
// may use.
func (s CertState) Valid() bool {
	return s == Planned || s == Mailed || s == Undelivered || s == Resent || s == Held
}

// addEvent checks event e against the certificate and appends it. An
// event dated before the envelope was mailed, or before the last event,
// is refused.
func (c *CertRecord) addEvent(e Event) error {
	if e.On.Before(c.SendOn) {
		return fmt.Errorf("資格確認書 %s: %s の記録日 %s は発送日 %s より前です", c.ID, e.Kind.Label(), day(e.On), day(c.SendOn))
	}
	if last := c.LastEventOn(); e.On.Before(last) {
		return fmt.Errorf("資格確認書 %s: %s の記録日 %s は前回の記録（%s）より前です", c.ID, e.Kind.Label(), day(e.On), day(last))
	}
	if _, err := Transition(c.State(e.On), e.Kind); err != nil {
		return err
	}
	c.Events = append(c.Events, e)
	return nil
}

// SortEvents orders events by day, then by when they were recorded.
func SortEvents(es []Event) {
	sort.SliceStable(es, func(i, j int) bool {
		if !es[i].On.Equal(es[j].On) {
			return es[i].On.Before(es[j].On)
		}
		return es[i].ID < es[j].ID
	})
}
