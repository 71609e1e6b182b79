package shikaku

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Every event in every state: the state it leads to, "=" for no change
// (already recorded), or "x" for refused.
func TestTransitions(t *testing.T) {
	kinds := []EventKind{EventUndelivered, EventResent, EventHeld, EventVoided, EventReturned, EventDestroyed, EventSuperseded}
	want := map[CertState][]string{
		//            undelivered    resent   held    voided   returned    destroyed    superseded
		Planned:     {"x", "x", "x", "x", "x", "x", "superseded"},
		Mailed:      {"undelivered", "x", "x", "x", "returned", "x", "superseded"},
		Undelivered: {"=", "resent", "held", "voided", "x", "destroyed", "superseded"},
		Resent:      {"x", "x", "held", "x", "returned", "x", "superseded"},
		Held:        {"x", "x", "=", "x", "x", "destroyed", "superseded"},
		Voided:      {"x", "x", "x", "x", "x", "destroyed", "="},
		Returned:    {"x", "x", "x", "x", "=", "destroyed", "="},
		Destroyed:   {"x", "x", "x", "x", "=", "=", "="},
		Superseded:  {"x", "x", "x", "x", "returned", "x", "="},
	}
	for _, from := range CertStates {
		for i, k := range kinds {
			got, err := Transition(from, k)
			var res string
			var nc ErrNoChange
			switch {
			case errors.As(err, &nc):
				res = "="
			case err != nil:
				res = "x"
				if !strings.Contains(err.Error(), from.Label()) {
					t.Errorf("%s + %s: refusal does not name the state: %v", from, k, err)
				}
			default:
				res = string(got)
			}
			if res != want[from][i] {
				t.Errorf("%s + %s = %s, want %s (%v)", from, k, res, want[from][i], err)
			}
		}
	}
}

func TestCertRecordState(t *testing.T) {
	c := &CertRecord{Certificate: Certificate{ID: "C4600000001"}, SendOn: d(2025, 8, 8)}
	if s := c.State(d(2025, 8, 7)); s != Planned {
		t.Errorf("before the send date: %s", s)
	}
	if s := c.State(d(2025, 8, 8)); s != Mailed {
		t.Errorf("on the send date: %s", s)
	}
	// An event before mailing is refused, as is one dated before the last.
	if err := c.addEvent(Event{On: d(2025, 8, 7), Kind: EventUndelivered}); err == nil {
		t.Error("undelivered before mailing accepted")
	}
	if err := c.addEvent(Event{On: d(2025, 8, 20), Kind: EventUndelivered}); err != nil {
		t.Fatal(err)
	}
	if err := c.addEvent(Event{On: d(2025, 8, 19), Kind: EventDestroyed}); err == nil {
		t.Error("an event dated before the last one accepted")
	}
	var nc ErrNoChange
	if err := c.addEvent(Event{On: d(2025, 8, 21), Kind: EventUndelivered}); !errors.As(err, &nc) {
		t.Errorf("second undelivered: %v", err)
	}
	c.addEvent(Event{On: d(2025, 9, 16), Kind: EventResent})
	for day, want := range map[time.Time]CertState{d(2025, 8, 19): Mailed, d(2025, 8, 20): Undelivered, d(2025, 9, 15): Undelivered, d(2025, 9, 16): Resent} {
		if got := c.State(day); got != want {
			t.Errorf("state on %s = %s, want %s", day.Format(time.DateOnly), got, want)
		}
	}
	// A destroyed certificate cannot be resent.
	c2 := &CertRecord{Certificate: Certificate{ID: "C4600000002"}, SendOn: d(2025, 8, 8)}
	c2.addEvent(Event{On: d(2025, 8, 20), Kind: EventUndelivered})
	if err := c2.addEvent(Event{On: d(2025, 8, 25), Kind: EventDestroyed}); err != nil {
		t.Fatal(err)
	}
	if err := c2.addEvent(Event{On: d(2025, 9, 16), Kind: EventResent}); err == nil || !strings.Contains(err.Error(), "廃棄済み") {
		t.Errorf("resend of a destroyed certificate: %v", err)
	}
}

func TestParseEnvelopeRef(t *testing.T) {
	good := NewTrackingNumber(5646600012)
	for _, tt := range []struct {
		in      string
		id      string
		tn      TrackingNumber
		wantErr string
	}{
		{"E4600000012", "E4600000012", 0, ""},
		{" e4600000012 ", "E4600000012", 0, ""},
		{"Ｅ４６００００００１２", "E4600000012", 0, ""},
		{good.Printed(), "", good, ""},
		{good.String(), "", good, ""},
		{good.String()[:10] + "9", "", 0, "チェックデジット"},
		{"E46", "", 0, "10桁"},
		{"12345", "", 0, "お問い合わせ番号"},
	} {
		id, tn, err := ParseEnvelopeRef(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || id != tt.id || tn != tt.tn {
			t.Errorf("%q = %q %v %v", tt.in, id, tn, err)
		}
	}
	if _, err := ParseCertificateID("C46000000"); err == nil {
		t.Error("short certificate ID accepted")
	}
}

func TestStatusReconciliation(t *testing.T) {
	c := &Campaign{Waves: []Wave{{SendOn: d(2025, 8, 8)}, {SendOn: d(2025, 8, 15)}},
		Dates: Dates{DataAsOf: d(2025, 5, 16), ExtractedOn: d(2025, 5, 17), LossExtractedOn: d(2025, 7, 13), EmployerListOn: d(2025, 7, 31), CardLastValidOn: d(2025, 12, 1)}}
	sum := &Summary{Members: 10, Decisions: map[ReasonCode]int{Target: 4, NInactive: 6}, Certificates: 4}
	steps := []Step{{Name: StepPack, DoneAt: d(2025, 7, 20)}, {Name: "resend 2025-09", DoneAt: d(2025, 9, 16)}}
	st := NewStatus(c, steps, sum, map[CertState]int{Mailed: 3, Undelivered: 1}, 4, d(2025, 9, 20))
	if !st.Reconciliation.Balanced {
		t.Errorf("balanced counts reported unbalanced: %v", st.Reconciliation.Problems)
	}
	if st.Next == nil || st.Next.Name != StepImport {
		t.Errorf("next step %+v", st.Next)
	}
	names := []string{}
	for _, s := range st.Steps {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "mail wave 2,resend 2025-09,resend 2025-10,card_last_valid") {
		t.Errorf("schedule %s", got)
	}
	st = NewStatus(c, steps, sum, map[CertState]int{Mailed: 3}, 4, d(2025, 9, 20))
	if st.Reconciliation.Balanced || len(st.Reconciliation.Problems) != 1 {
		t.Errorf("a certificate without a state went unnoticed: %+v", st.Reconciliation)
	}
	sum.Decisions[Target] = 3
	st = NewStatus(c, steps, sum, map[CertState]int{Mailed: 4}, 4, d(2025, 9, 20))
	if st.Reconciliation.Balanced {
		t.Error("decisions not adding up to members went unnoticed")
	}
}

// FuzzParseEnvelopeRef: any text either parses to an envelope ID or to a
// tracking number with a valid check digit, or is refused; never a panic.
func FuzzParseEnvelopeRef(f *testing.F) {
	for _, s := range []string{"E4600000001", "564-66-00000-6", "56466000006", "Ｅ４６", "", "E", "5-6-4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, tn, err := ParseEnvelopeRef(s)
		if err != nil {
			return
		}
		if id == "" && !tn.Valid() {
			t.Fatalf("%q accepted as tracking number %v with a wrong check digit", s, tn)
		}
		if id != "" && (len(id) != 11 || id[0] != 'E') {
			t.Fatalf("%q accepted as envelope ID %q", s, id)
		}
	})
}
