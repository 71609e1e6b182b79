package shikaku

import (
	"strings"
	"testing"
)

func TestTrackingNumber(t *testing.T) {
	tn := NewTrackingNumber(5646600000)
	if tn.String() != "56466000006" { // 5646600000 mod 7 = 6
		t.Errorf("String = %s", tn)
	}
	if tn.Printed() != "564-66-00000-6" {
		t.Errorf("Printed = %s", tn.Printed())
	}
	if !tn.Valid() || tn.Body() != 5646600000 {
		t.Errorf("Valid/Body wrong: %v %d", tn.Valid(), tn.Body())
	}
	for body := uint64(5646600000); body < 5646600050; body++ {
		tn := NewTrackingNumber(body)
		if uint64(tn)%10 != body%7 {
			t.Fatalf("check digit of %d", body)
		}
		for _, form := range []string{tn.String(), tn.Printed(), " " + tn.Printed() + " "} {
			back, err := ParseTrackingNumber(form)
			if err != nil || back != tn {
				t.Fatalf("ParseTrackingNumber(%q) = %v, %v", form, back, err)
			}
		}
	}
	for _, bad := range []string{"56466000005", "5646600000", "564660000066", "5646600000x", "", "564-66-00000-5"} {
		if _, err := ParseTrackingNumber(bad); err == nil {
			t.Errorf("ParseTrackingNumber(%q) accepted", bad)
		}
	}
}

func TestTrackingRanges(t *testing.T) {
	rs := TrackingRanges{{First: 100, Last: 102}, {First: 500, Last: 500}}
	if rs.Capacity() != 4 {
		t.Fatalf("Capacity = %d", rs.Capacity())
	}
	want := []uint64{100, 101, 102, 500}
	for i, body := range want {
		tn, ok := rs.Nth(uint64(i))
		if !ok || tn.Body() != body {
			t.Errorf("Nth(%d) = %v, %v; want body %d", i, tn, ok, body)
		}
	}
	if _, ok := rs.Nth(4); ok {
		t.Error("Nth past the end")
	}
	a := &TrackingAllocator{Ranges: rs, Used: 1}
	if err := a.Reserve(3); err != nil {
		t.Errorf("Reserve(3) with 3 left: %v", err)
	}
	if err := a.Reserve(4); err == nil || !strings.Contains(err.Error(), "足りません") {
		t.Errorf("Reserve(4) with 3 left: %v", err)
	}
	seen := map[TrackingNumber]bool{}
	for range 3 {
		tn, err := a.Next()
		if err != nil || seen[tn] {
			t.Fatalf("Next: %v %v", tn, err)
		}
		seen[tn] = true
	}
	if _, err := a.Next(); err == nil {
		t.Error("Next past the end")
	}
	if a.Used != 4 {
		t.Errorf("Used = %d", a.Used)
	}
}
