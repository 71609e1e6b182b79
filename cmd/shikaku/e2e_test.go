package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/encoding/japanese"

	"shikaku"
	"shikaku/pdf"
	"shikaku/postgres"
	"shikaku/synth"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// binary is the shikaku built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "shikaku-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "shikaku")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the built binary in dir.
func run(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func mustRun(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := run(t, dir, nil, args...)
	if r.code != 0 {
		t.Fatalf("shikaku %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func key(r map[string]string) string {
	return r["branch_code"] + "-" + r["symbol"] + "-" + r["number"] + "-" + r["branch_no"]
}

type summaryFile struct {
	Members          int            `json:"members"`
	Decisions        map[string]int `json:"decisions"`
	Certificates     int            `json:"certificates"`
	Envelopes        int            `json:"envelopes"`
	EnvelopesBySize  map[string]int `json:"envelopes_by_size"`
	EnvelopesPerWave []struct {
		SendOn       string `json:"send_on"`
		Envelopes    int    `json:"envelopes"`
		Certificates int    `json:"certificates"`
	} `json:"envelopes_per_wave"`
	Postage struct {
		TotalYen int `json:"total_yen"`
	} `json:"postage"`
	UnmatchedLosses struct {
		Count int `json:"count"`
	} `json:"unmatched_losses"`
	EnvelopesByLanguage map[string]int `json:"envelopes_by_language"`
}

// checkInvariants checks an export folder against the member file.
func checkInvariants(t *testing.T, out, membersCSV string) summaryFile {
	t.Helper()
	members := readCSV(t, membersCSV)
	dv := map[string]bool{}
	household := map[string]string{}
	for _, m := range members {
		if m["dv"] == "1" {
			dv[key(m)] = true
		}
		household[key(m)] = m["branch_code"] + "-" + m["symbol"] + "-" + m["number"]
	}
	decisions := readCSV(t, filepath.Join(out, "decisions.csv"))
	if len(decisions) != len(members) {
		t.Errorf("%d decisions for %d members", len(decisions), len(members))
	}
	decided := map[string]string{}
	for _, d := range decisions {
		if _, dup := decided[key(d)]; dup {
			t.Errorf("member %s decided twice", key(d))
		}
		decided[key(d)] = d["decision"]
		if !shikaku.ReasonCode(d["decision"]).Valid() {
			t.Errorf("unknown decision %q", d["decision"])
		}
	}
	for _, m := range members {
		if _, ok := decided[key(m)]; !ok {
			t.Errorf("member %s has no decision", key(m))
		}
		if dv[key(m)] && decided[key(m)] == "TARGET" {
			t.Errorf("DV member %s is a target", key(m))
		}
	}
	var sum summaryFile
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	total := 0
	for code, n := range sum.Decisions {
		total += n
		count := 0
		for _, d := range decided {
			if d == code {
				count++
			}
		}
		if count != n {
			t.Errorf("summary says %d %s, decisions.csv has %d", n, code, count)
		}
	}
	if total != sum.Members || sum.Members != len(members) {
		t.Errorf("decisions add up to %d, members %d, read %d", total, sum.Members, len(members))
	}
	lines := readCSV(t, filepath.Join(out, "envelopes.csv"))
	certs := map[string]bool{}
	envHousehold := map[string]string{}
	envSize := map[string]int{}
	envTracking := map[string]string{}
	trackingEnv := map[string]string{}
	prevSeq := ""
	for _, l := range lines {
		k := key(l)
		if decided[k] != "TARGET" {
			t.Errorf("certificate for %s decided %s", k, decided[k])
		}
		if dv[k] {
			t.Errorf("DV member %s in envelopes.csv", k)
		}
		if certs[l["certificate_id"]] {
			t.Errorf("certificate %s twice", l["certificate_id"])
		}
		certs[l["certificate_id"]] = true
		id := l["envelope_id"]
		if h, ok := envHousehold[id]; ok && h != household[k] {
			t.Errorf("envelope %s mixes households %s and %s", id, h, household[k])
		}
		envHousehold[id] = household[k]
		envSize[id]++
		tn, err := shikaku.ParseTrackingNumber(l["tracking_no"])
		if err != nil || tn.String() != l["tracking_no"] {
			t.Errorf("envelope %s: tracking %q: %v", id, l["tracking_no"], err)
		}
		if e, ok := trackingEnv[l["tracking_no"]]; ok && e != id {
			t.Errorf("tracking number %s on %s and %s", l["tracking_no"], e, id)
		}
		trackingEnv[l["tracking_no"]] = id
		envTracking[id] = l["tracking_no"]
		if id < prevSeq {
			t.Errorf("envelopes.csv not in print order at %s", id)
		}
		prevSeq = id
	}
	targets := 0
	for _, d := range decided {
		if d == "TARGET" {
			targets++
		}
	}
	if len(certs) != targets || sum.Certificates != targets {
		t.Errorf("%d certificates (summary %d) for %d targets", len(certs), sum.Certificates, targets)
	}
	bySize := map[string]int{}
	for _, n := range envSize {
		if n < 1 || n > 4 {
			t.Errorf("envelope with %d certificates", n)
		}
		bySize[strconv.Itoa(n)]++
	}
	if len(envSize) != sum.Envelopes || fmt.Sprint(bySize) != fmt.Sprint(nonZero(sum.EnvelopesBySize)) {
		t.Errorf("envelopes %d by size %v; summary %d %v", len(envSize), bySize, sum.Envelopes, sum.EnvelopesBySize)
	}
	perWave := 0
	for _, w := range sum.EnvelopesPerWave {
		perWave += w.Envelopes
	}
	if perWave != sum.Envelopes || sum.Postage.TotalYen != 320*sum.Envelopes {
		t.Errorf("waves %d, postage %d for %d envelopes", perWave, sum.Postage.TotalYen, sum.Envelopes)
	}
	// Employer lists: one row per certificate of a general household, no DV member.
	certByMember := map[string]string{}
	for _, l := range lines {
		certByMember[key(l)] = l["certificate_id"]
	}
	files, _ := filepath.Glob(filepath.Join(out, "employers", "*.csv"))
	listed := 0
	for _, f := range files {
		for _, r := range readCSV(t, f) {
			listed++
			k := key(map[string]string{"branch_code": "46", "symbol": r["symbol"], "number": r["number"], "branch_no": r["branch_no"]})
			if dv[k] || !certs[certByMember[k]] {
				t.Errorf("%s: %s is listed without a certificate (or DV)", f, k)
			}
			if filepath.Base(f) != r["employer_code"]+".csv" {
				t.Errorf("%s lists employer %s", f, r["employer_code"])
			}
		}
	}
	if listed == 0 || listed > len(certs) {
		t.Errorf("%d rows on employer lists for %d certificates", listed, len(certs))
	}
	checkPrint(t, out, lines, dv, sum)
	return sum
}

// checkPrint checks print/ and the employer PDFs against envelopes.csv:
// the vendor data holds every certificate in the same print order, each
// cover sheet is one page of the file and page it names, no DV member
// appears, and every employer list has its PDF.
func checkPrint(t *testing.T, out string, lines []map[string]string, dv map[string]bool, sum summaryFile) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(out, "print")); os.IsNotExist(err) {
		return // exported with --no-pdf
	}
	vendor := readCSV(t, filepath.Join(out, "print", "vendor.csv"))
	if len(vendor) != len(lines) {
		t.Fatalf("vendor.csv has %d rows, envelopes.csv %d", len(vendor), len(lines))
	}
	pagesOf := map[string]int{}
	byLanguage := map[string]int{} // envelopes per flyer language, as printed
	for i, v := range vendor {
		l := lines[i]
		if v["certificate_id"] != l["certificate_id"] || v["envelope_id"] != l["envelope_id"] || v["tracking_no"] != l["tracking_no"] {
			t.Fatalf("vendor.csv row %d is %s/%s, envelopes.csv has %s/%s", i+1, v["envelope_id"], v["certificate_id"], l["envelope_id"], l["certificate_id"])
		}
		if dv[key(v)] {
			t.Errorf("DV member %s in vendor.csv", key(v))
		}
		if v["position"] == "1" {
			page, _ := strconv.Atoi(v["page"])
			if page != pagesOf[v["file"]]+1 {
				t.Errorf("%s: envelope %s on page %d, expected %d", v["file"], v["envelope_id"], page, pagesOf[v["file"]]+1)
			}
			pagesOf[v["file"]] = page
			byLanguage[v["language"]]++
		}
	}
	pdfs, _ := filepath.Glob(filepath.Join(out, "print", "*.pdf"))
	total := 0
	for _, f := range pdfs {
		info, err := exec.Command("pdfinfo", f).Output()
		if err != nil {
			t.Fatalf("pdfinfo %s: %v (apt-get install poppler-utils)", f, err)
		}
		var pages int
		for _, line := range strings.Split(string(info), "\n") {
			if rest, ok := strings.CutPrefix(line, "Pages:"); ok {
				pages, _ = strconv.Atoi(strings.TrimSpace(rest))
			}
		}
		if pages != pagesOf[filepath.Base(f)] {
			t.Errorf("%s has %d pages, vendor.csv places %d", f, pages, pagesOf[filepath.Base(f)])
		}
		total += pages
	}
	if total != sum.Envelopes {
		t.Errorf("%d cover sheets for %d envelopes", total, sum.Envelopes)
	}
	if !maps.Equal(byLanguage, sum.EnvelopesByLanguage) || byLanguage["ja"] == 0 {
		t.Errorf("summary.json counts envelopes by language %v, vendor.csv %v", sum.EnvelopesByLanguage, byLanguage)
	}
	csvs, _ := filepath.Glob(filepath.Join(out, "employers", "*.csv"))
	for _, f := range csvs {
		if _, err := os.Stat(strings.TrimSuffix(f, ".csv") + ".pdf"); err != nil {
			t.Errorf("employer list %s has no PDF", f)
		}
	}
}

func nonZero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

func TestDemoInvariants(t *testing.T) {
	dir := t.TempDir()
	r := mustRun(t, dir, "demo", "--members", "4000", "--out", "out", "--seed", "7")
	for _, want := range []string{"集計", "送付対象（TARGET）", "封筒", "第1回 令和7年8月8日", "第2回 令和7年8月15日", "郵送料"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	sum := checkInvariants(t, filepath.Join(dir, "out"), filepath.Join(dir, "out", "input", "members.csv"))
	for _, code := range shikaku.ReasonCodes {
		if sum.Decisions[string(code)] == 0 {
			t.Errorf("the demo data has no member decided %s", code)
		}
	}
	if sum.UnmatchedLosses.Count == 0 {
		t.Error("no unmatched loss rows reported")
	}
	for _, w := range sum.EnvelopesPerWave {
		if w.Envelopes == 0 {
			t.Errorf("wave %s is empty", w.SendOn)
		}
	}
	// Same seed, same data.
	mustRun(t, dir, "demo", "--members", "4000", "--out", "again", "--seed", "7")
	for _, f := range []string{"decisions.csv", "envelopes.csv", "summary.json"} {
		a, _ := os.ReadFile(filepath.Join(dir, "out", f))
		b, _ := os.ReadFile(filepath.Join(dir, "again", f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
}

// backend is a database the end-to-end tests run on.
type backend struct {
	name string
	url  func(t *testing.T, dir, name string) string // a fresh database
}

// backends are SQLite always, and PostgreSQL where SHIKAKU_TEST_POSTGRES
// names a server (always in CI).
func backends(t *testing.T) []backend {
	bs := []backend{{"sqlite", func(t *testing.T, dir, name string) string {
		return "sqlite:" + filepath.Join(dir, name+".db")
	}}}
	admin := os.Getenv("SHIKAKU_TEST_POSTGRES")
	if admin == "" && os.Getenv("CI") != "" {
		t.Fatal("SHIKAKU_TEST_POSTGRES is not set in CI: .ci/run must start PostgreSQL")
	}
	if admin != "" {
		bs = append(bs, backend{"postgres", func(t *testing.T, dir, name string) string {
			u, drop, err := postgres.TestDatabase(context.Background(), admin)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(drop)
			return u
		}})
	} else {
		t.Log("PostgreSQL end-to-end tests skipped: set SHIKAKU_TEST_POSTGRES=postgres://… (bash .ci/run does)")
	}
	return bs
}

// TestStepByStep drives the commands one by one as an operator would,
// with a CP932 member file, and checks the refusals and exit codes.
func TestStepByStep(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { stepByStep(t, b) })
	}
}

func stepByStep(t *testing.T, b backend) {
	dir := t.TempDir()
	files, _, err := synth.Generate(dir, synth.Options{Members: 1500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	cp932 := filepath.Join(dir, "members_sjis.csv")
	toCP932(t, files.Members, cp932)
	db := "--db=" + b.url(t, dir, "s")

	mustRun(t, dir, "init", db)
	// Members before employers: every general insured person's employer is unknown.
	r := run(t, dir, nil, "import", "members", cp932, db)
	if r.code != exitBadInput || !strings.Contains(r.stderr, "事業所ファイルにない事業所記号") || !strings.Contains(r.stderr, "ほか") {
		t.Errorf("import before employers: exit %d\n%s", r.code, r.stderr)
	}
	mustRun(t, dir, "import", "employers", files.Employers, db)
	r = mustRun(t, dir, "import", "members", cp932, db, "--encoding", "sjis")
	if !strings.Contains(r.stdout, "を取り込みました") {
		t.Errorf("import: %s", r.stdout)
	}
	// An unsorted file is accepted too (read again with an index).
	unsorted := filepath.Join(dir, "members_unsorted.csv")
	reverseRows(t, files.Members, unsorted)
	r = mustRun(t, dir, "import", "members", unsorted, db)
	if !strings.Contains(r.stdout, "を取り込みました") {
		t.Errorf("unsorted import: %s", r.stdout)
	}
	// Before extract a re-import replaces the snapshot.
	mustRun(t, dir, "import", "members", files.Members, db)
	r = run(t, dir, nil, "crossmatch", files.Losses, db)
	if r.code == 0 || !strings.Contains(r.stderr, "extract") {
		t.Errorf("crossmatch before extract: exit %d %s", r.code, r.stderr)
	}
	mustRun(t, dir, "extract", "--campaign", files.Campaign, db)
	r = run(t, dir, nil, "import", "members", files.Members, db)
	if r.code == 0 || !strings.Contains(r.stderr, "抽出後は取り込み直せません") {
		t.Errorf("re-import after extract: exit %d %s", r.code, r.stderr)
	}
	r = mustRun(t, dir, "crossmatch", files.Losses, db)
	if !strings.Contains(r.stdout, "加入者データにないキー") {
		t.Errorf("crossmatch did not report unknown keys: %s", r.stdout)
	}
	// Extracting again before packing undoes the cross-match, and says so.
	r = mustRun(t, dir, "extract", "--campaign", files.Campaign, db)
	if !strings.Contains(r.stdout, "crossmatch をもう一度実行してください") {
		t.Errorf("re-extract after crossmatch: %s", r.stdout)
	}
	mustRun(t, dir, "crossmatch", files.Losses, db)
	mustRun(t, dir, "pack", db)
	r = run(t, dir, nil, "pack", db)
	if r.code == 0 || !strings.Contains(r.stderr, "封入（pack）が済んでいます") {
		t.Errorf("second pack: exit %d %s", r.code, r.stderr)
	}
	mustRun(t, dir, "export", filepath.Join(dir, "out"), db)
	checkInvariants(t, filepath.Join(dir, "out"), files.Members)
	// The stderr of a failure is one line.
	if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines != 0 {
		t.Errorf("failure message has %d lines: %q", lines+1, r.stderr)
	}

	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"import", "members"}, exitUsage},
		{[]string{"import", "members", "/nonexistent.csv", db}, exitError},
		{[]string{"export", db}, exitUsage},
		{[]string{"extract", db}, exitUsage},
		{[]string{"import", "members", files.Members, "--encoding", "latin1", db}, exitUsage},
		{[]string{"pack", "--db", "mysql://x"}, exitUsage},
	} {
		if r := run(t, dir, nil, tt.args...); r.code != tt.code {
			t.Errorf("shikaku %s: exit %d, want %d\n%s", strings.Join(tt.args, " "), r.code, tt.code, r.stderr)
		}
	}
}

// TestRunMatchesSteps: run decides while it imports, where the store can
// (both do); its exports are those of the commands one by one, with the
// member file in key order and reversed (where run imports alone and
// extracts after). The generated data has every reason code.
func TestRunMatchesSteps(t *testing.T) {
	dir := t.TempDir()
	files, _, err := synth.Generate(dir, synth.Options{Members: 3000, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	unsorted := filepath.Join(dir, "members_unsorted.csv")
	reverseRows(t, files.Members, unsorted)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			db := "--db=" + b.url(t, dir, b.name+"_steps")
			steps := filepath.Join(dir, b.name+"_steps")
			mustRun(t, dir, "init", db)
			mustRun(t, dir, "import", "employers", files.Employers, db)
			mustRun(t, dir, "import", "members", files.Members, db)
			mustRun(t, dir, "extract", "--campaign", files.Campaign, db)
			mustRun(t, dir, "crossmatch", files.Losses, db)
			mustRun(t, dir, "pack", db)
			mustRun(t, dir, "export", "--no-pdf", steps, db)
			for _, members := range []string{files.Members, unsorted} {
				out := filepath.Join(dir, b.name+"_run_"+filepath.Base(members))
				r := mustRun(t, dir, "run", "--campaign", files.Campaign, "--members", members, "--employers", files.Employers,
					"--losses", files.Losses, "--no-pdf", "--out", out, "--db="+b.url(t, dir, b.name+"_run_"+filepath.Base(members)))
				if !strings.Contains(r.stdout, "名を判定しました") {
					t.Errorf("run did not report the decisions:\n%s", r.stdout)
				}
				got, want := exportedFiles(out), exportedFiles(steps)
				if !slices.Equal(got, want) || len(want) < 10 {
					t.Fatalf("run (%s) exported %v, the steps %v", filepath.Base(members), got, want)
				}
				for _, rel := range want {
					ran, _ := os.ReadFile(filepath.Join(out, rel))
					stepped, _ := os.ReadFile(filepath.Join(steps, rel))
					if !bytes.Equal(ran, stepped) {
						t.Errorf("run (%s): %s differs from the steps' export", filepath.Base(members), rel)
					}
				}
			}
		})
	}
}

// exportedFiles lists the files under root but the database, relative
// to root.
func exportedFiles(root string) []string {
	var files []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "shikaku.db") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, rel)
		return nil
	})
	return files
}

func TestBadCampaignFile(t *testing.T) {
	dir := t.TempDir()
	files, _, err := synth.Generate(dir, synth.Options{Members: 100, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(files.Campaign)
	bad := strings.Replace(strings.Replace(string(b), "per_envelope    = 4", "per_envelope    = 0", 1), "data_as_of               = 2025-05-16\n", "", 1)
	os.WriteFile(files.Campaign, []byte(bad), 0o644)
	r := run(t, dir, nil, "run", "--campaign", files.Campaign, "--members", files.Members, "--employers", files.Employers, "--out", "out")
	if r.code != exitBadInput || !strings.Contains(r.stderr, "per_envelope") || !strings.Contains(r.stderr, "data_as_of") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}

// TestKillPackAndRerun kills the real binary with SIGKILL in the middle of
// pack, then runs pack again: the database is consistent after the kill,
// the rerun finishes the job, and no tracking number is handed out twice.
func TestKillPackAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a long pack; skipped in -short")
	}
	dir := t.TempDir()
	files, _, err := synth.Generate(dir, synth.Options{Members: 80000, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range backends(t) {
		for _, killAfter := range []int{1, 6} {
			t.Run(fmt.Sprintf("%s after %d batches", b.name, killAfter), func(t *testing.T) {
				killPack(t, dir, files, b.url(t, dir, fmt.Sprintf("k%d", killAfter)), killAfter)
			})
		}
	}
}

func killPack(t *testing.T, dir string, files synth.Files, url string, killAfter int) {
	db := "--db=" + url
	mustRun(t, dir, "import", "employers", files.Employers, db)
	mustRun(t, dir, "import", "members", files.Members, db)
	mustRun(t, dir, "extract", "--campaign", files.Campaign, db)
	mustRun(t, dir, "crossmatch", files.Losses, db)

	cmd := exec.Command(binary, "pack", db)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SHIKAKU_LOG_LEVEL=debug")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	saved := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), "pack envelopes saved") {
			saved++
			if saved == killAfter {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	err := cmd.Wait()
	if saved < killAfter {
		t.Fatalf("pack finished before the kill (%d batches): %v", saved, err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("pack was not killed: %v", err)
	}

	// Consistent: nothing of the killed pack is there.
	s, err := openStore(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Summary(context.Background(), "46")
	s.Close()
	if err != nil || sum.Envelopes != 0 || sum.Certificates != 0 {
		t.Fatalf("after the kill: %+v %v", sum, err)
	}
	mustRun(t, dir, "pack", db)
	out := t.TempDir()
	mustRun(t, dir, "export", out, db)
	checkInvariants(t, out, files.Members)
	lines := readCSV(t, filepath.Join(out, "envelopes.csv"))
	if lines[0]["tracking_no"] != shikaku.NewTrackingNumber(5646600000).String() {
		t.Errorf("the rerun did not start at the first number: %s", lines[0]["tracking_no"])
	}
}

// reverseRows writes a CSV with its data rows in reverse order.
func reverseRows(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
	for i, j := 1, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	if err := os.WriteFile(to, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// toCP932 rewrites a UTF-8 CSV in CP932 with Japanese headers.
func toCP932(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	out, err := encodeCP932(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "demo") {
		t.Errorf("help: %d %s", code, out.String())
	}
	if code := Main(context.Background(), []string{"demo", "--members", "0"}, &out, &errb); code != exitUsage {
		t.Errorf("demo --members 0: %d", code)
	}
	_ = time.Second
}

// TestBenchTable runs bench on a small branch and reads its table: a
// row per step with wall time, CPU time and memory, and a total.
func TestBenchTable(t *testing.T) {
	dir := t.TempDir()
	r := mustRun(t, dir, "bench", "--members", "3000", "--no-pdf", "--dir", filepath.Join(dir, "work"))
	head, rows := benchTable(t, r.stdout, 4)
	if head != "seconds CPU seconds peak RSS MiB peak anon MiB" {
		t.Errorf("header: %q", head)
	}
	// The heading says on what the figures were measured (TestCPUName).
	if want := "run（3,000 名, sqlite:"; !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, cores(runtime.NumCPU())+"）\n") {
		t.Errorf("no heading %q… naming %q in\n%s", want, cores(runtime.NumCPU()), r.stdout)
	}
	steps := map[string]bool{}
	for _, row := range rows {
		if nums := row.nums; row.step == "total" && (nums[0] <= 0 || nums[1] <= 0) {
			t.Errorf("total: %v seconds, %v CPU seconds", nums[0], nums[1])
		}
		steps[row.step] = true
	}
	// SQLite decides while importing (TestRunMatchesSteps).
	for _, want := range []string{"init", "import employers", "import members + extract", "crossmatch", "pack", "export", "total"} {
		if !steps[want] {
			t.Errorf("no row for %s in\n%s", want, r.stdout)
		}
	}
}

// benchRow is one row of the table bench prints: a step and its figures.
type benchRow struct {
	step string
	nums []float64
}

// benchTable reads the table in bench's output: its header (the column
// names after "step", spaces folded) and its rows, each a step's name and
// its last columns figures. Shorter lines (the notes under the table) and
// the database size are not rows; a figure that is not a number is an
// error.
func benchTable(t *testing.T, stdout string, columns int) (string, []benchRow) {
	t.Helper()
	_, table, ok := strings.Cut(stdout, "\n  step ")
	if !ok {
		t.Fatalf("no table in\n%s", stdout)
	}
	lines := strings.Split(table, "\n")
	var rows []benchRow
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= columns || f[0] == "database" {
			continue
		}
		row := benchRow{step: strings.Join(f[:len(f)-columns], " "), nums: make([]float64, columns)}
		for i, s := range f[len(f)-columns:] {
			if _, err := fmt.Sscan(s, &row.nums[i]); err != nil {
				t.Errorf("%s: %q is not a number", row.step, s)
			}
		}
		rows = append(rows, row)
	}
	return strings.Join(strings.Fields(lines[0]), " "), rows
}

// TestBenchRounds repeats the run and reads the table of medians: each
// step's median lies between its fastest and slowest round, every round
// had a fresh database and folder, and on PostgreSQL the rounds'
// databases are gone afterwards.
func TestBenchRounds(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			work := filepath.Join(dir, "work")
			args := []string{"bench", "--members", "2000", "--no-pdf", "--rounds", "3", "--dir", work}
			var db string
			if b.name == "postgres" {
				db = b.url(t, dir, "b")
				args = append(args, "--db="+db)
			}
			r := mustRun(t, dir, args...)
			for i := 1; i <= 3; i++ {
				if !strings.Contains(r.stdout, fmt.Sprintf("第 %d 回: ", i)) {
					t.Errorf("no line for round %d in\n%s", i, r.stdout)
				}
				if b.name == "sqlite" {
					for _, f := range []string{"shikaku.db", "decisions.csv", "summary.json"} {
						if _, err := os.Stat(filepath.Join(work, fmt.Sprintf("out-%d", i), f)); err != nil {
							t.Errorf("round %d: %v", i, err)
						}
					}
				}
			}
			head, rows := benchTable(t, r.stdout, 6)
			if head != "median s min s max s median CPU s peak RSS MiB peak anon MiB" {
				t.Errorf("header: %q", head)
			}
			for _, row := range rows {
				if med, lo, hi := row.nums[0], row.nums[1], row.nums[2]; lo > med || med > hi {
					t.Errorf("%s: median %v outside %v–%v", row.step, med, lo, hi)
				}
				if row.step == "total" && row.nums[0] <= 0 {
					t.Errorf("total: median %v", row.nums[0])
				}
			}
			if len(rows) != 7 { // init, two imports, crossmatch, pack, export, total
				t.Errorf("%d rows of figures in\n%s", len(rows), r.stdout)
			}
			if db != "" {
				conn, err := pgx.Connect(context.Background(), db)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(context.Background())
				name, err := postgres.DatabaseName(db)
				if err != nil {
					t.Fatal(err)
				}
				var left int
				if err := conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM pg_database WHERE starts_with(datname, $1)`, name+"_bench_").Scan(&left); err != nil {
					t.Fatal(err)
				}
				if left != 0 {
					t.Errorf("%d databases of the rounds left behind", left)
				}
			}
		})
	}
	r := run(t, t.TempDir(), nil, "bench", "--rounds", "2", "--db", "sqlite:x.db")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--rounds") {
		t.Errorf("rounds on a named SQLite file: exit %d\n%s", r.code, r.stderr)
	}
}

// renameTarget gives the first TARGET member of a run a new name in a
// copy of the member file, and returns the copy and the member's key.
func renameTarget(t *testing.T, membersCSV, decisionsCSV, to, name string, skip int) string {
	t.Helper()
	var target string
	for _, d := range readCSV(t, decisionsCSV) {
		if d["decision"] == "TARGET" {
			if skip == 0 {
				target = key(d)
				break
			}
			skip--
		}
	}
	f, err := os.Open(membersCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		if r[col["branch_code"]]+"-"+r[col["symbol"]]+"-"+r[col["number"]]+"-"+r[col["branch_no"]] == target {
			r[col["name"]] = name
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(recs)
	if err := os.WriteFile(to, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return target
}

// TestPrintNames: a name with 𠮷 (beyond the BMP, in IPAmj only) is
// printed and comes out in the PDF's text layer; a name no font can draw
// stops the export and names the member, and no print folder is left.
func TestPrintNames(t *testing.T) {
	needPrint(t)
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "in"), 0o755)
	files, _, err := synth.Generate(filepath.Join(dir, "in"), synth.Options{Members: 600, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	in := func(members, out string) []string {
		return []string{"run", "--campaign", files.Campaign, "--employers", files.Employers, "--members", members, "--out", out}
	}
	mustRun(t, dir, in(files.Members, "plain")...)
	decisions := filepath.Join(dir, "plain", "decisions.csv")

	yoshida := filepath.Join(dir, "yoshida.csv")
	who := renameTarget(t, files.Members, decisions, yoshida, "𠮷田　花子", 0)
	mustRun(t, dir, in(yoshida, "yoshida")...)
	vendor := readCSV(t, filepath.Join(dir, "yoshida", "print", "vendor.csv"))
	found := false
	for _, v := range vendor {
		if key(v) == who {
			found = true
			text, err := exec.Command("pdftotext", filepath.Join(dir, "yoshida", "print", v["file"]), "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(text), "𠮷田") {
				t.Errorf("%s: 𠮷田 not in the text of %s", who, v["file"])
			}
		}
	}
	if !found {
		t.Fatalf("%s not in vendor.csv", who)
	}
	// 𠮷 has no Shift_JIS code: the CP932 vendor file is refused, naming the member.
	r := run(t, dir, nil, "export", "sjis", "--db", "sqlite:"+filepath.Join(dir, "yoshida", "shikaku.db"), "--vendor-encoding", "sjis")
	if r.code == 0 || !strings.Contains(r.stderr, who) || !strings.Contains(r.stderr, "Shift_JIS") {
		t.Errorf("sjis export with 𠮷: exit %d\n%s", r.code, r.stderr)
	}
	// Without 𠮷 the CP932 file carries the same rows as the UTF-8 one.
	mustRun(t, dir, "export", "sjis", "--db", "sqlite:"+filepath.Join(dir, "plain", "shikaku.db"), "--vendor-encoding", "sjis")
	sjis, _ := os.ReadFile(filepath.Join(dir, "sjis", "print", "vendor.csv"))
	utf8, _ := os.ReadFile(filepath.Join(dir, "plain", "print", "vendor.csv"))
	decoded, err := japanese.ShiftJIS.NewDecoder().Bytes(sjis)
	if err != nil || !bytes.Equal(decoded, utf8) || bytes.Equal(sjis, utf8) {
		t.Errorf("the CP932 vendor file does not decode to the UTF-8 one (err %v)", err)
	}

	// A character no font has: the export stops and lists the member.
	gaiji := filepath.Join(dir, "gaiji.csv")
	who = renameTarget(t, files.Members, decisions, gaiji, "\U0010FFFD木　一郎", 1)
	r = run(t, dir, nil, in(gaiji, "gaiji")...)
	if r.code == 0 || !strings.Contains(r.stderr, who) || !strings.Contains(r.stderr, "U+10FFFD") {
		t.Errorf("undrawable name: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "gaiji", "print")); !os.IsNotExist(err) {
		t.Error("a print folder was left behind after the stop")
	}
}

// needPrint skips a test that needs the fonts and poppler when they are
// not installed locally; in CI they must be.
func needPrint(t *testing.T) {
	t.Helper()
	_, err := pdf.LoadFonts("", "")
	if err == nil {
		_, err = exec.LookPath("pdftotext")
	}
	if err != nil {
		msg := fmt.Sprintf("needs fonts and poppler (apt-get install fonts-ipaexfont fonts-ipamj-mincho poppler-utils; bash .ci/run does): %v", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}
