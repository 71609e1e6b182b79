package synth

import "testing"

func TestEmployerCodesUniqueAndStable(t *testing.T) {
	seen := map[string]int{}
	for i := range 2_000_000 {
		c := employerCode(i)
		if len(c) != 8 {
			t.Fatalf("employer %d: code %q is not 8 digits", i, c)
		}
		if j, dup := seen[c]; dup {
			t.Fatalf("employers %d and %d share code %s", j, i, c)
		}
		seen[c] = i
	}
	// The codes of earlier versions, which the golden files hold.
	for i, want := range map[int]string{0: "10100000", 1: "10100001", 899_999: "10999999", 900_000: "11100000"} {
		if got := employerCode(i); got != want {
			t.Errorf("employer %d: code %s, want %s", i, got, want)
		}
	}
}
