package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shikaku"
	"shikaku/synth"
)

// TestAfterSending walks a whole campaign after the envelopes leave, on
// every backend: mailing, a dozen undelivered envelopes (by tracking
// number and by ID, one twice), a later loss, two monthly resends, held
// households of both kinds, a package that comes back, returns and
// destruction, a reissue for a DV-registered member, lookups, and the
// status balanced after every step.
func TestAfterSending(t *testing.T) {
	needPrint(t)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { afterSending(t, b) })
	}
}

type statusOut struct {
	Steps []struct {
		Name   string  `json:"name"`
		DueOn  string  `json:"due_on"`
		DoneOn *string `json:"done_on"`
	} `json:"steps"`
	Reconciliation struct {
		Members      int            `json:"members"`
		Decisions    map[string]int `json:"decisions"`
		Certificates int            `json:"certificates"`
		States       map[string]int `json:"states"`
		Balanced     bool           `json:"balanced"`
	} `json:"reconciliation"`
}

func afterSending(t *testing.T, b backend) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	files, _, err := synth.Generate(in, synth.Options{Members: 2500, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	url := b.url(t, dir, "after")
	db := "--db=" + url
	env := []string{"SHIKAKU_OPERATOR=テスト担当"}
	do := func(args ...string) result {
		t.Helper()
		r := run(t, dir, env, append(args, db)...)
		if r.code != 0 {
			t.Fatalf("shikaku %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r
	}
	status := func(on string) statusOut {
		t.Helper()
		r := do("status", "--json", "--on", on)
		var s statusOut
		if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
			t.Fatalf("status --json: %v\n%s", err, r.stdout)
		}
		if !s.Reconciliation.Balanced {
			t.Fatalf("status on %s not balanced: %+v", on, s.Reconciliation)
		}
		sum := 0
		for _, n := range s.Reconciliation.States {
			sum += n
		}
		if sum != s.Reconciliation.Certificates {
			t.Fatalf("states add up to %d of %d certificates", sum, s.Reconciliation.Certificates)
		}
		return s
	}
	mustRun(t, dir, "run", "--campaign", files.Campaign, "--members", files.Members, "--employers", files.Employers,
		"--losses", files.Losses, "--out", "out", db)
	if s := status("2025-08-01"); s.Reconciliation.States["planned"] != s.Reconciliation.Certificates {
		t.Fatalf("before the first send everything is planned: %v", s.Reconciliation.States)
	}
	if s := status("2025-08-16"); s.Reconciliation.States["mailed"] != s.Reconciliation.Certificates {
		t.Fatalf("after the second send everything is mailed: %v", s.Reconciliation.States)
	}

	// Pick the envelopes that will come back: general households, a
	// voluntary one, and one whose employer closes.
	members := readCSV(t, files.Members)
	typeOf, empOf := map[string]string{}, map[string]string{}
	var dvMember map[string]string
	for _, m := range members {
		h := m["branch_code"] + "-" + m["symbol"] + "-" + m["number"]
		if m["branch_no"] == "00" {
			typeOf[h], empOf[h] = m["insured_type"], m["employer_code"]
		}
		if m["dv"] == "1" && dvMember == nil && m["branch_no"] != "00" {
			dvMember = m
		}
	}
	lines := readCSV(t, filepath.Join(dir, "out", "envelopes.csv"))
	var general, voluntary []sentEnv
	seen := map[string]bool{}
	usedEmployer := map[string]bool{}
	for _, l := range lines {
		if seen[l["envelope_id"]] {
			continue
		}
		seen[l["envelope_id"]] = true
		h := l["branch_code"] + "-" + l["symbol"] + "-" + l["number"]
		e := sentEnv{l["envelope_id"], l["tracking_no"], h, empOf[h]}
		switch typeOf[h] {
		case "voluntary":
			voluntary = append(voluntary, e)
		case "general":
			if !usedEmployer[e.employer] {
				usedEmployer[e.employer] = true
				general = append(general, e)
			}
		}
	}
	if len(general) < 11 || len(voluntary) < 1 {
		t.Fatalf("generated data has %d general, %d voluntary envelopes", len(general), len(voluntary))
	}
	back := append(append([]sentEnv{}, general[:10]...), voluntary[0])
	closing := general[9] // its employer closes before the resend
	lost := general[8]    // its insured person's loss arrives after packing

	// A dozen undelivered: half by tracking number (hyphenated), half by ID, one twice.
	var args []string
	for i, e := range back {
		if i%2 == 0 {
			tn, _ := shikaku.ParseTrackingNumber(e.tracking)
			args = append(args, tn.Printed())
		} else {
			args = append(args, e.id)
		}
	}
	r := do(append([]string{"undelivered", "--reason", "宛所不明", "--on", "2025-08-20"}, args...)...)
	if strings.Count(r.stdout, "不着として記録しました") != len(back) {
		t.Errorf("undelivered:\n%s", r.stdout)
	}
	r = do("undelivered", back[0].id, "--reason", "宛所不明", "--on", "2025-08-21")
	if !strings.Contains(r.stdout, "すでに記録済みです（変更なし）") {
		t.Errorf("second undelivered of %s: %s", back[0].id, r.stdout)
	}
	// Refused: a wrong check digit, an unknown ID, a date before mailing; nothing recorded.
	wrong := back[1].tracking[:10] + fmt.Sprint((int(back[1].tracking[10]-'0')+1)%10)
	r = run(t, dir, env, "undelivered", wrong, "E4699999999", "--reason", "宛所不明", "--on", "2025-08-20", db)
	if r.code != exitBadInput || !strings.Contains(r.stderr, "チェックデジット") || !strings.Contains(r.stderr, "E4699999999") {
		t.Errorf("bad scans: exit %d %s", r.code, r.stderr)
	}
	r = run(t, dir, env, "undelivered", general[10].id, "--reason", "宛所不明", "--on", "2025-08-01", db)
	if r.code != exitBadInput || !strings.Contains(r.stderr, "発送のため") {
		t.Errorf("undelivered before mailing: exit %d %s", r.code, r.stderr)
	}
	s := status("2025-08-31")
	undelivered := s.Reconciliation.States["undelivered"]
	if undelivered == 0 {
		t.Fatal("no certificate undelivered")
	}

	// The employer of one household closes; the insured person of another loses eligibility.
	emps := readCSV(t, files.Employers)
	empFile := filepath.Join(dir, "employers_closed.csv")
	writeRows(t, empFile, emps, func(r map[string]string) {
		if r["employer_code"] == closing.employer {
			r["closed_on"] = "2025-09-01"
		}
	}, []string{"employer_code", "name", "postal_code", "address", "address_line2", "contact", "closed_on"})
	do("import", "employers", empFile)
	parts := strings.Split(lost.household, "-")
	lossFile := filepath.Join(dir, "losses_later.csv")
	os.WriteFile(lossFile, []byte("branch_code,symbol,number,branch_no,lost_on,reason\n"+
		fmt.Sprintf("%s,%s,%s,00,2025-09-01,退職\n", parts[0], parts[1], parts[2])), 0o644)
	r = do("crossmatch", lossFile)
	if !strings.Contains(r.stdout, "記録") {
		t.Errorf("crossmatch after pack: %s", r.stdout)
	}
	status("2025-09-01")

	// First monthly resend.
	do("resend", "--on", "2025-09-16", "--out", "resend1")
	resent := readCSV(t, filepath.Join(dir, "resend1", "resend.csv"))
	held := readCSV(t, filepath.Join(dir, "resend1", "held.csv"))
	voided := readCSV(t, filepath.Join(dir, "resend1", "voided.csv"))
	reasons := map[string]int{}
	for _, h := range held {
		reasons[h["reason"]]++
	}
	if reasons["no_employer"] == 0 || reasons["employer_closed"] == 0 {
		t.Errorf("held reasons %v", reasons)
	}
	if len(voided) == 0 || voided[0]["lost_on"] != "2025-09-01" || voided[0]["original_envelope_id"] != lost.id {
		t.Errorf("voided %v (lost household %s)", voided, lost.household)
	}
	if len(resent)+len(held)+len(voided) != undelivered {
		t.Errorf("resent %d + held %d + voided %d != undelivered %d", len(resent), len(held), len(voided), undelivered)
	}
	packages := map[string]string{}
	for _, row := range resent {
		if p, ok := packages[row["employer_code"]]; ok && p != row["envelope_id"] {
			t.Errorf("employer %s got two packages", row["employer_code"])
		}
		packages[row["employer_code"]] = row["envelope_id"]
		if _, err := shikaku.ParseTrackingNumber(row["tracking_no"]); err != nil {
			t.Errorf("package tracking %s: %v", row["tracking_no"], err)
		}
	}
	letters, _ := filepath.Glob(filepath.Join(dir, "resend1", "letters", "*.pdf"))
	if len(letters) != len(packages) || len(packages) == 0 {
		t.Errorf("%d letters for %d packages", len(letters), len(packages))
	}
	s = status("2025-09-16")
	if s.Reconciliation.States["resent"] != len(resent) || s.Reconciliation.States["held"] != len(held) || s.Reconciliation.States["voided"] != len(voided) {
		t.Errorf("states after resend %v", s.Reconciliation.States)
	}
	// The same month again sends nothing new and writes the same files.
	r = do("resend", "--on", "2025-09-25", "--out", "resend1again")
	if !strings.Contains(r.stdout, "すでに作成済み") {
		t.Errorf("second resend of the month: %s", r.stdout)
	}
	for _, f := range []string{"resend.csv", "held.csv", "voided.csv"} {
		a, _ := os.ReadFile(filepath.Join(dir, "resend1", f))
		b, _ := os.ReadFile(filepath.Join(dir, "resend1again", f))
		if string(a) != string(b) {
			t.Errorf("%s differs on the second run of the month", f)
		}
	}
	if s2 := status("2025-09-25"); s2.Reconciliation.States["resent"] != len(resent) {
		t.Errorf("second run changed states: %v", s2.Reconciliation.States)
	}

	// One package comes back: its certificates are held.
	var pkg, pkgTracking string
	for _, row := range resent {
		pkg, pkgTracking = row["envelope_id"], row["tracking_no"]
		break
	}
	do("undelivered", pkgTracking, "--reason", "宛所不明", "--on", "2025-09-30")
	s = status("2025-09-30")
	inPkg := 0
	for _, row := range resent {
		if row["envelope_id"] == pkg {
			inPkg++
		}
	}
	if s.Reconciliation.States["held"] != len(held)+inPkg {
		t.Errorf("package %s came back: held %d, want %d", pkg, s.Reconciliation.States["held"], len(held)+inPkg)
	}

	// Second month: one more undelivered envelope; the held ones are not sent again.
	do("undelivered", general[10].id, "--reason", "転居先不明", "--on", "2025-10-03")
	do("resend", "--on", "2025-10-16", "--out", "resend2")
	resent2 := readCSV(t, filepath.Join(dir, "resend2", "resend.csv"))
	if len(resent2) == 0 || len(readCSV(t, filepath.Join(dir, "resend2", "held.csv"))) != 0 {
		t.Errorf("second month: resent %v", resent2)
	}
	for _, row := range resent2 {
		if row["original_envelope_id"] != general[10].id {
			t.Errorf("second month resent %s again", row["original_envelope_id"])
		}
		if row["tracking_no"] == pkgTracking {
			t.Error("a tracking number was handed out twice")
		}
	}
	r = run(t, dir, env, "resend", "--on", "2025-08-30", "--out", "late", db)
	if r.code == 0 {
		t.Error("a resend for an earlier month was accepted")
	}
	status("2025-10-16")

	// Returns and destruction.
	var mailedCert string
	for _, l := range lines {
		if !seen2(back, l["envelope_id"]) && l["envelope_id"] != general[10].id {
			mailedCert = l["certificate_id"]
			break
		}
	}
	do("return", mailedCert, "--on", "2025-10-20")
	r = do("return", mailedCert, "--on", "2025-10-21")
	if !strings.Contains(r.stdout, "変更なし") {
		t.Errorf("second return: %s", r.stdout)
	}
	r = run(t, dir, []string{"SHIKAKU_OPERATOR="}, "destroy", mailedCert, "--on", "2025-10-22", db)
	if r.code != exitUsage {
		t.Errorf("destroy without operator: exit %d %s", r.code, r.stderr)
	}
	do("destroy", mailedCert, "--on", "2025-10-22", "--operator", "廃棄担当")
	r = run(t, dir, env, "return", "C4699999999", "--on", "2025-10-22", db)
	if r.code != exitBadInput {
		t.Errorf("unknown certificate: exit %d %s", r.code, r.stderr)
	}
	if s := status("2025-10-22"); s.Reconciliation.States["destroyed"] != 1 {
		t.Errorf("destroyed %v", s.Reconciliation.States)
	}

	// Reissue for a DV-registered member: never to the household's address.
	if dvMember == nil {
		t.Fatal("the generated data has no DV-registered dependent")
	}
	dvKey := key(dvMember)
	var household map[string]string
	for _, m := range members {
		if m["symbol"] == dvMember["symbol"] && m["number"] == dvMember["number"] && m["branch_no"] == "00" {
			household = m
		}
	}
	r = run(t, dir, env, "reissue", dvKey, "--to-postal", household["postal_code"], "--to-address", household["address"],
		"--reason", "本人申請", "--on", "2025-11-01", "--out", "reissue", db)
	if r.code == 0 || !strings.Contains(r.stderr, "DV") {
		t.Errorf("DV reissue to the household address: exit %d %s", r.code, r.stderr)
	}
	r = do("reissue", dvKey, "--to-postal", "8920816", "--to-address", "鹿児島県鹿児島市山下町11-1", "--reason", "本人申請", "--on", "2025-11-01", "--out", "reissue")
	if !strings.Contains(r.stdout, "再交付しました") {
		t.Errorf("reissue: %s", r.stdout)
	}
	if pdfs, _ := filepath.Glob(filepath.Join(dir, "reissue", "*.pdf")); len(pdfs) != 1 {
		t.Errorf("reissue documents: %v", pdfs)
	}
	// A reissue to a member with a certificate supersedes it.
	var target map[string]string
	for _, l := range lines {
		if l["envelope_id"] != general[10].id && !seen2(back, l["envelope_id"]) && l["certificate_id"] != mailedCert {
			target = l
			break
		}
	}
	do("reissue", key(target), "--to-postal", "8900053", "--to-address", "鹿児島県鹿児島市中央町1-1", "--reason", "紛失", "--on", "2025-11-02", "--out", "reissue")
	s = status("2025-11-02")
	if s.Reconciliation.States["superseded"] != 1 || s.Reconciliation.Certificates != len(lines)+2 {
		t.Errorf("after two reissues: %d certificates, %v", s.Reconciliation.Certificates, s.Reconciliation.States)
	}

	// Lookups: by key, by tracking number, by kana and birth date.
	var persons []struct {
		Key          string `json:"key"`
		Decision     string `json:"decision"`
		Certificates []struct {
			CertificateID string `json:"certificate_id"`
			State         string `json:"state"`
		} `json:"certificates"`
		Events []struct {
			On   string `json:"on"`
			Kind string `json:"kind"`
		} `json:"events"`
	}
	lookup := func(q ...string) {
		t.Helper()
		r := do(append([]string{"lookup", "--json", "--on", "2025-11-30"}, q...)...)
		persons = nil
		if err := json.Unmarshal([]byte(r.stdout), &persons); err != nil {
			t.Fatalf("lookup --json %v: %v\n%s", q, err, r.stdout)
		}
	}
	lookup(key(target))
	if len(persons) != 1 || len(persons[0].Certificates) != 2 || persons[0].Certificates[0].State != "superseded" || persons[0].Certificates[1].State != "mailed" {
		t.Errorf("lookup of the reissued member: %+v", persons)
	}
	lookup(dvKey)
	if len(persons) != 1 || persons[0].Decision != "X4_DV" || len(persons[0].Certificates) != 1 {
		t.Errorf("lookup of the DV member: %+v", persons)
	}
	lookup(back[2].tracking)
	if len(persons) == 0 {
		t.Fatalf("lookup by tracking number %s found nobody", back[2].tracking)
	}
	kinds := []string{}
	for _, e := range persons[0].Events {
		kinds = append(kinds, e.Kind)
	}
	if !strings.HasPrefix(strings.Join(kinds, ","), "mailed,undelivered") {
		t.Errorf("events of %s: %v", back[2].id, kinds)
	}
	var someone map[string]string
	for _, m := range members {
		if key(m) == key(target) {
			someone = m
		}
	}
	lookup(strings.ReplaceAll(someone["name_kana"], "　", " "), someone["birth_date"])
	found := false
	for _, p := range persons {
		found = found || p.Key == key(target)
	}
	if !found {
		t.Errorf("lookup by kana %s %s did not find %s", someone["name_kana"], someone["birth_date"], key(target))
	}
	r = do("lookup", key(target))
	for _, want := range []string{"判定: 送付対象", "新しい資格確認書の交付により無効", "履歴:", "再交付"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lookup text lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, dir, []string{"SHIKAKU_OPERATOR="}, "lookup", key(target), db); r.code != exitUsage {
		t.Errorf("lookup without operator: exit %d", r.code)
	}
	var log []struct {
		Operator string   `json:"operator"`
		Query    string   `json:"query"`
		Persons  []string `json:"persons"`
	}
	r = do("accesslog", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatalf("accesslog --json: %v\n%s", err, r.stdout)
	}
	if len(log) != 5 || log[0].Operator != "テスト担当" || log[0].Query != key(target) || len(log[0].Persons) != 1 || log[0].Persons[0] != key(target) {
		t.Errorf("access log: %+v", log)
	}
	if r := do("accesslog", "--through", "2000-01-01"); !strings.Contains(r.stdout, "照会の記録はありません") {
		t.Errorf("access log before 2000: %s", r.stdout)
	}

	// The export after all this still leaks no DV member and stays balanced.
	do("export", "out2", "--no-pdf")
	for _, l := range readCSV(t, filepath.Join(dir, "out2", "envelopes.csv")) {
		if key(l) == dvKey {
			t.Errorf("DV member %s in the bulk envelopes", dvKey)
		}
	}
	s = status("2025-12-05")
	done := map[string]bool{}
	for _, st := range s.Steps {
		done[st.Name] = st.DoneOn != nil
	}
	for _, name := range []string{"extract", "crossmatch", "pack", "export", "mail wave 1", "mail wave 2", "resend 2025-09", "resend 2025-10", "card_last_valid"} {
		if !done[name] {
			t.Errorf("step %s not done in status: %+v", name, s.Steps)
		}
	}
	r = do("status", "--on", "2025-12-05")
	if !strings.Contains(r.stdout, "突合: 一致しています") {
		t.Errorf("status text:\n%s", r.stdout)
	}
}

// sentEnv is an envelope of the bulk mailing as the test picks them.
type sentEnv struct{ id, tracking, household, employer string }

func seen2(es []sentEnv, id string) bool {
	for _, e := range es {
		if e.id == id {
			return true
		}
	}
	return false
}

// writeRows writes rows (as read by readCSV) with header, after edit.
func writeRows(t *testing.T, path string, rows []map[string]string, edit func(map[string]string), header []string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write(header)
	for _, r := range rows {
		edit(r)
		rec := make([]string, len(header))
		for i, h := range header {
			rec[i] = r[h]
		}
		w.Write(rec)
	}
	w.Flush()
}

// TestScannerMode feeds undelivered scans on standard input, as a
// barcode scanner types them: each line is recorded at once, a bad line
// is reported and the rest still recorded.
func TestScannerMode(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	files, _, err := synth.Generate(in, synth.Options{Members: 300, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	db := "--db=sqlite:" + filepath.Join(dir, "s.db")
	mustRun(t, dir, "run", "--campaign", files.Campaign, "--members", files.Members, "--employers", files.Employers, "--out", filepath.Join(dir, "out"), "--no-pdf", db)
	lines := readCSV(t, filepath.Join(dir, "out", "envelopes.csv"))
	tn, _ := shikaku.ParseTrackingNumber(lines[0]["tracking_no"])
	stdin = strings.NewReader(tn.Printed() + "\nE4699999999\n\n" + lines[len(lines)-1]["envelope_id"] + "\n" + tn.String() + "\n")
	defer func() { stdin = os.Stdin }()
	var out, errb strings.Builder
	code := Main(t.Context(), []string{"undelivered", "--reason", "宛所不明", "--on", "2025-08-25", db}, &out, &errb)
	if code != exitError || strings.Count(out.String(), "不着として記録しました") != 2 ||
		!strings.Contains(out.String(), "× ") || !strings.Contains(out.String(), "すでに記録済み") {
		t.Errorf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}
