package shikaku

import (
	"reflect"
	"testing"
)

func TestSummaryAddsEnvelopeGroups(t *testing.T) {
	c := &Campaign{Mail: Mail{PerEnvelope: 4}, Waves: []Wave{{SendOn: d(2025, 8, 8)}, {SendOn: d(2025, 8, 15)}}}
	sum := NewSummary(c)
	// Groups as a store reads them: (wave, size, flyer language, envelopes).
	sum.AddEnvelopes(1, 1, "ja", 7)
	sum.AddEnvelopes(1, 1, "en", 2)
	sum.AddEnvelopes(1, 1, "vi", 1)
	sum.AddEnvelopes(1, 3, "ja", 2)
	sum.AddEnvelopes(2, 1, "ja", 5)
	sum.AddEnvelopes(2, 4, "ja", 1)
	if sum.Envelopes != 18 || sum.Certificates != 10+6+5+4 {
		t.Errorf("envelopes %d certificates %d, want 18 and 25", sum.Envelopes, sum.Certificates)
	}
	if want := map[int]int{1: 15, 2: 0, 3: 2, 4: 1}; !reflect.DeepEqual(sum.EnvelopesBySize, want) {
		t.Errorf("by size %v, want %v", sum.EnvelopesBySize, want)
	}
	w1, w2 := sum.Waves[0], sum.Waves[1]
	if w1.Envelopes != 12 || w1.Certificates != 16 || w2.Envelopes != 6 || w2.Certificates != 9 || !w2.SendOn.Equal(d(2025, 8, 15)) {
		t.Errorf("waves %+v", sum.Waves)
	}
	if want := map[string]int{"ja": 15, "en": 2, "vi": 1}; !reflect.DeepEqual(sum.EnvelopesByLanguage, want) {
		t.Errorf("by language %v, want %v", sum.EnvelopesByLanguage, want)
	}
}

func TestSummaryWithoutEnvelopes(t *testing.T) {
	sum := NewSummary(&Campaign{Mail: Mail{PerEnvelope: 2}, Waves: []Wave{{SendOn: d(2025, 8, 8)}}})
	if len(sum.EnvelopesByLanguage) != 0 || len(sum.Waves) != 1 || sum.Waves[0].Envelopes != 0 {
		t.Errorf("empty summary: %+v", sum)
	}
}

func TestMailCountCountsEachEnvelopeOnce(t *testing.T) {
	c := &Campaign{Mail: Mail{PerEnvelope: 4}, Waves: []Wave{{SendOn: d(2025, 8, 8)}, {SendOn: d(2025, 8, 15)}}}
	sum := NewSummary(c)
	mail := NewMailCount(sum)
	for _, l := range []EnvelopeLine{
		// An envelope's lines come one after another; each carries its
		// envelope's wave, size, language and employer.
		{EnvelopeID: "E1", Wave: 1, Size: 3, Language: "ja", EmployerCode: "A"},
		{EnvelopeID: "E1", Wave: 1, Size: 3, Language: "ja", EmployerCode: "A"},
		{EnvelopeID: "E1", Wave: 1, Size: 3, Language: "ja", EmployerCode: "A"},
		{EnvelopeID: "E2", Wave: 1, Size: 1, Language: "vi", EmployerCode: "A"},
		{EnvelopeID: "E3", Wave: 2, Size: 2, Language: "ja", EmployerCode: ""},
		{EnvelopeID: "E3", Wave: 2, Size: 2, Language: "ja", EmployerCode: ""},
		{EnvelopeID: "E4", Wave: 2, Size: 1, Language: "ja", EmployerCode: "B"},
	} {
		mail.Add(&l)
	}
	mail.Done()
	if sum.Envelopes != 4 || sum.Certificates != 7 || sum.Employers != 2 {
		t.Errorf("envelopes %d, certificates %d, employers %d; want 4, 7, 2", sum.Envelopes, sum.Certificates, sum.Employers)
	}
	if want := map[int]int{1: 2, 2: 1, 3: 1, 4: 0}; !reflect.DeepEqual(sum.EnvelopesBySize, want) {
		t.Errorf("by size %v, want %v", sum.EnvelopesBySize, want)
	}
	if w1, w2 := sum.Waves[0], sum.Waves[1]; w1.Envelopes != 2 || w1.Certificates != 4 || w2.Envelopes != 2 || w2.Certificates != 3 {
		t.Errorf("waves %+v", sum.Waves)
	}
	if want := map[string]int{"ja": 3, "vi": 1}; !reflect.DeepEqual(sum.EnvelopesByLanguage, want) {
		t.Errorf("by language %v, want %v", sum.EnvelopesByLanguage, want)
	}
}
