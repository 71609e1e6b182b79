package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/width"

	"shikaku"
	"shikaku/csvin"
	"shikaku/export"
	"shikaku/pdf"
	"shikaku/wareki"
)

func init() {
	register(command{"undelivered", "不着で戻った封筒を記録します（封筒番号・お問い合わせ番号。バーコード読み取り可）", runUndelivered})
	register(command{"resend", "その月の不着分を事業所あてに再送する一式を作ります", runResend})
	register(command{"return", "返却された資格確認書を記録します", runReturn})
	register(command{"destroy", "返却された資格確認書の廃棄を記録します", runDestroy})
	register(command{"reissue", "資格確認書を再交付し、単独で送付する書類を作ります", runReissue})
	register(command{"lookup", "加入者の判定結果と資格確認書の履歴を照会します", runLookup})
	register(command{"accesslog", "照会（lookup）の記録を表示します（誰が・いつ・何で・誰を）", runAccessLog})
	register(command{"status", "スケジュール上の進み具合と件数の突合を表示します", runStatus})
}

// lifeFlags are the options of the commands after sending.
type lifeFlags struct {
	on       *string
	operator *string
}

func (f *flags) lifeFlags() *lifeFlags {
	return &lifeFlags{
		on:       f.String("on", "", "日付（2025-09-01、R7.9.1 など。既定は今日）"),
		operator: f.String("operator", "", "担当者名（既定は環境変数 SHIKAKU_OPERATOR）"),
	}
}

// date is --on, or today.
func (l *lifeFlags) date() (time.Time, error) {
	if *l.on == "" {
		return today(), nil
	}
	d, err := wareki.Parse(*l.on)
	if err != nil {
		return time.Time{}, usagef("--on %q は日付として読めません（例: 2025-09-01、R7.9.1）", *l.on)
	}
	return d, nil
}

func (l *lifeFlags) who() string {
	if *l.operator != "" {
		return *l.operator
	}
	return os.Getenv("SHIKAKU_OPERATOR")
}

func today() time.Time {
	n := time.Now()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// scans are the IDs of the command line, of --file, or (with neither)
// read one per line from standard input as a barcode scanner types them.
func scanInputs(args []string, file string, on time.Time, reason string, opt csvin.Options) ([]shikaku.Scan, error) {
	if file != "" && len(args) > 0 {
		return nil, usagef("番号の指定と --file は同時に使えません")
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("%s を開けません: %w", file, err)
		}
		defer f.Close()
		opt.File = file
		rows, err := csvin.Scans(f, opt)
		if err != nil {
			return nil, err
		}
		var out []shikaku.Scan
		for _, r := range rows {
			s := shikaku.Scan{Line: r.Line, Raw: r.ID, Reason: r.Reason, On: r.On}
			if s.Reason == "" {
				s.Reason = reason
			}
			if s.On.IsZero() {
				s.On = on
			}
			out = append(out, s)
		}
		return out, nil
	}
	var out []shikaku.Scan
	for _, a := range args {
		out = append(out, shikaku.Scan{Raw: a, Reason: reason, On: on})
	}
	return out, nil
}

// record runs a recording step per scan batch and prints the outcomes.
func record(ctx context.Context, e *env, f *flags, scans []shikaku.Scan,
	fn func(tx shikaku.LifeTx, scans []shikaku.Scan) ([]shikaku.Outcome, error), verb string) error {
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		var outs []shikaku.Outcome
		err := s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error {
			var err error
			outs, err = fn(tx, scans)
			return err
		})
		if err != nil {
			return err
		}
		printOutcomes(e.stdout, outs, verb)
		return nil
	})
}

func printOutcomes(w io.Writer, outs []shikaku.Outcome, verb string) {
	changed, same := 0, 0
	for _, o := range outs {
		switch {
		case o.Changed > 0:
			fmt.Fprintf(w, "%s: 資格確認書 %d 枚を%sとして記録しました（封筒 %s）\n", strings.TrimSpace(o.Scan.Raw), o.Changed, verb, o.EnvelopeID)
		default:
			fmt.Fprintf(w, "%s: すでに記録済みです（変更なし）\n", strings.TrimSpace(o.Scan.Raw))
		}
		if len(o.Skipped) > 0 {
			fmt.Fprintf(w, "  （対象外: %s）\n", strings.Join(o.Skipped, ", "))
		}
		changed += o.Changed
		same += o.Unchanged
	}
	if len(outs) > 1 {
		fmt.Fprintf(w, "合計: %d 件を記録、%d 件は記録済みのため変更なし\n", changed, same)
	}
}

// scanLoop reads IDs from standard input, one per line, and records each
// at once (its own transaction), so that the operator sees every scan's
// result; a refused scan is reported and the loop goes on.
func scanLoop(ctx context.Context, e *env, f *flags, in io.Reader, mk func(raw string) shikaku.Scan,
	fn func(tx shikaku.LifeTx, scans []shikaku.Scan) ([]shikaku.Outcome, error), verb string) error {
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		fmt.Fprintln(e.stderr, "番号を読み取ってください（1行に1件。終わるときは Ctrl-D）")
		sc := bufio.NewScanner(in)
		refused := 0
		for sc.Scan() {
			raw := strings.TrimSpace(sc.Text())
			if raw == "" {
				continue
			}
			var outs []shikaku.Outcome
			err := s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error {
				var err error
				outs, err = fn(tx, []shikaku.Scan{mk(raw)})
				return err
			})
			var se *shikaku.ScanError
			switch {
			case errors.As(err, &se):
				refused++
				fmt.Fprintf(e.stdout, "× %s\n", strings.Join(se.Problems, " / "))
			case err != nil:
				return err
			default:
				printOutcomes(e.stdout, outs, verb)
			}
		}
		if refused > 0 {
			return fmt.Errorf("%d 件の番号を記録できませんでした（上の × の行）", refused)
		}
		return sc.Err()
	})
}

var stdin io.Reader = os.Stdin

// scanCommand is a command that records scanned IDs (undelivered,
// return, destroy): from the command line, from --file, or from standard
// input as a barcode scanner types them.
type scanCommand struct {
	f      *flags
	lf     *lifeFlags
	file   *string
	csvOpt func() (csvin.Options, error)
	reason *string // the default reason of every scan ("" flag: none)
	// check runs after the flags are read, before any ID is.
	check func(interactive bool) error
	// record records a batch of scans in one transaction.
	record func(tx shikaku.LifeTx, scans []shikaku.Scan) ([]shikaku.Outcome, error)
	verb   string
}

func newScanCommand(e *env, name, synopsis string) *scanCommand {
	f := newFlags(e, name, synopsis)
	return &scanCommand{f: f, lf: f.lifeFlags(), file: f.String("file", "", "番号の一覧 CSV（列: id（番号）、reason（理由）、on（日付））"),
		csvOpt: f.csvFlags(), reason: new(string)}
}

func (c *scanCommand) run(ctx context.Context, e *env, args []string) error {
	pos, err := c.f.parse(args)
	if err != nil {
		return err
	}
	on, err := c.lf.date()
	if err != nil {
		return err
	}
	opt, err := c.csvOpt()
	if err != nil {
		return err
	}
	interactive := len(pos) == 0 && *c.file == ""
	if c.check != nil {
		if err := c.check(interactive); err != nil {
			return err
		}
	}
	if interactive {
		return scanLoop(ctx, e, c.f, stdin, func(raw string) shikaku.Scan { return shikaku.Scan{Raw: raw, Reason: *c.reason, On: on} }, c.record, c.verb)
	}
	scans, err := scanInputs(pos, *c.file, on, *c.reason, opt)
	if err != nil {
		return err
	}
	return record(ctx, e, c.f, scans, c.record, c.verb)
}

func runUndelivered(ctx context.Context, e *env, args []string) error {
	c := newScanCommand(e, "undelivered", "undelivered 封筒番号またはお問い合わせ番号… --reason 理由 [--on 日付] | --file F")
	c.reason = c.f.String("reason", "", "不着の理由（宛所不明、転居先不明、受取拒否、保管期間経過 など）")
	c.verb = "不着"
	c.check = func(interactive bool) error {
		if interactive && *c.reason == "" {
			return usagef("不着の理由を --reason で指定してください")
		}
		return nil
	}
	c.record = func(tx shikaku.LifeTx, scans []shikaku.Scan) ([]shikaku.Outcome, error) {
		for _, s := range scans {
			if strings.TrimSpace(s.Reason) == "" {
				return nil, &shikaku.ScanError{Problems: []string{"不着の理由を --reason（またはファイルの reason 列）で指定してください"}}
			}
		}
		return shikaku.RecordUndelivered(ctx, tx, scans, c.lf.who(), time.Now())
	}
	return c.run(ctx, e, args)
}

func runCertificates(ctx context.Context, e *env, args []string, name string, kind shikaku.EventKind, verb string) error {
	c := newScanCommand(e, name, name+" 資格確認書番号… [--on 日付] | --file F")
	c.verb = verb
	c.check = func(bool) error {
		if kind == shikaku.EventDestroyed && c.lf.who() == "" {
			return usagef("廃棄の記録には担当者名が必要です（--operator または環境変数 SHIKAKU_OPERATOR）")
		}
		return nil
	}
	c.record = func(tx shikaku.LifeTx, scans []shikaku.Scan) ([]shikaku.Outcome, error) {
		return shikaku.RecordCertificates(ctx, tx, kind, scans, c.lf.who(), time.Now())
	}
	return c.run(ctx, e, args)
}

func runReturn(ctx context.Context, e *env, args []string) error {
	return runCertificates(ctx, e, args, "return", shikaku.EventReturned, "返却")
}

func runDestroy(ctx context.Context, e *env, args []string) error {
	return runCertificates(ctx, e, args, "destroy", shikaku.EventDestroyed, "廃棄")
}

// ---- resend ----

func runResend(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "resend", "resend --on 日付 --out 出力先フォルダ [--no-pdf]")
	lf := f.lifeFlags()
	out := f.String("out", "", "出力先フォルダ")
	noPDF := f.Bool("no-pdf", false, "送付文書の PDF を作らない")
	if _, err := f.parse(args); err != nil {
		return err
	}
	if *lf.on == "" || *out == "" {
		return usagef("使い方: shikaku resend --on 日付 --out 出力先フォルダ")
	}
	on, err := lf.date()
	if err != nil {
		return err
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		c, err := s.Campaign(ctx, branch)
		if err != nil {
			return err
		}
		var fonts *pdf.Fonts
		if !*noPDF {
			if fonts, err = pdf.LoadFonts(c.Print.GothicFont, c.Print.MinchoFont); err != nil {
				return err
			}
		}
		var b *shikaku.ResendBatch
		// The batch and its letters are made in one transaction: a letter
		// that cannot be drawn leaves nothing recorded.
		err = s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error {
			var err error
			if b, err = shikaku.Resend(ctx, tx, on, lf.who(), time.Now()); err != nil {
				return err
			}
			return writeResend(c, b, fonts, *out)
		})
		if err != nil {
			return err
		}
		if b.Existing {
			fmt.Fprintf(e.stdout, "%s の再送はすでに作成済みです（%s）。新たには何も送らず、その内容を %s に出力し直しました\n", b.Month, day(b.On), *out)
		}
		resent := 0
		for _, p := range b.Packages {
			resent += len(p.Items)
		}
		fmt.Fprintf(e.stdout, "%s 再送: 事業所 %d か所あてに %d 通（資格確認書 %d 枚）、住所調査のため保留 %d 枚、資格喪失により無効 %d 枚 → %s\n",
			day(b.On), len(b.Packages), len(b.Packages), resent, len(b.Held), len(b.Voided), *out)
		return nil
	})
}

func day(t time.Time) string { return wareki.Format(t) }

// writeResend writes resend.csv, held.csv, voided.csv and one cover
// letter per employer (letters/CODE.pdf) into dir.
func writeResend(c *shikaku.Campaign, b *shikaku.ResendBatch, fonts *pdf.Fonts, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("出力先フォルダ %s を作れません: %w", dir, err)
	}
	key := func(k shikaku.MemberKey) []string { return []string{k.Branch, k.Symbol, k.Number, k.BranchNo} }
	var rows [][]string
	for _, p := range b.Packages {
		for _, cr := range p.Items {
			rows = append(rows, append(append([]string{p.Employer.Code, p.Envelope.ID, p.Envelope.TrackingNumber.String(), cr.EnvelopeID}, key(cr.Member)...), cr.ID))
		}
	}
	if err := writeCSVFile(filepath.Join(dir, "resend.csv"), []string{"employer_code", "envelope_id", "tracking_no", "original_envelope_id",
		"branch_code", "symbol", "number", "branch_no", "certificate_id"}, rows); err != nil {
		return err
	}
	rows = nil
	sort.Slice(b.Held, func(i, j int) bool { return b.Held[i].Cert.ID < b.Held[j].Cert.ID })
	for _, h := range b.Held {
		rows = append(rows, append(append([]string{h.Cert.EnvelopeID}, key(h.Cert.Member)...), h.Cert.ID, h.Reason))
	}
	if err := writeCSVFile(filepath.Join(dir, "held.csv"), []string{"original_envelope_id", "branch_code", "symbol", "number", "branch_no",
		"certificate_id", "reason"}, rows); err != nil {
		return err
	}
	rows = nil
	sort.Slice(b.Voided, func(i, j int) bool { return b.Voided[i].Cert.ID < b.Voided[j].Cert.ID })
	for _, v := range b.Voided {
		rows = append(rows, append(append([]string{v.Cert.EnvelopeID}, key(v.Cert.Member)...), v.Cert.ID, wareki.Format(v.LostOn)))
	}
	if err := writeCSVFile(filepath.Join(dir, "voided.csv"), []string{"original_envelope_id", "branch_code", "symbol", "number", "branch_no",
		"certificate_id", "lost_on"}, rows); err != nil {
		return err
	}
	if fonts == nil {
		return nil
	}
	letters := filepath.Join(dir, "letters")
	if err := os.MkdirAll(letters, 0o755); err != nil {
		return err
	}
	var problems []pdf.GlyphProblem
	for _, p := range b.Packages {
		l := &pdf.ResendLetter{Employer: p.Employer, On: b.On, EnvelopeID: p.Envelope.ID, TrackingNumber: p.Envelope.TrackingNumber}
		for _, cr := range p.Items {
			l.Persons = append(l.Persons, pdf.ResendPerson{OriginalEnvelopeID: cr.EnvelopeID, Member: cr.Member, Name: cr.Name, Relationship: cr.Relationship})
		}
		data, ps, err := fonts.ResendLetterPDF(c, l)
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			problems = append(problems, ps...)
			continue
		}
		if err := os.WriteFile(filepath.Join(letters, p.Employer.Code+".pdf"), data, 0o644); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return pdf.NewGlyphError(problems)
	}
	return nil
}

func writeCSVFile(path string, header []string, rows [][]string) error {
	return export.WriteCSV(path, header, func(w *csv.Writer) error { return w.WriteAll(rows) })
}

// ---- reissue ----

func runReissue(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "reissue", "reissue 加入者キー --to-postal 〒 --to-address 住所 [--to-line2 方書] [--to-name 宛名] --reason 理由 [--on 日付] --out フォルダ")
	lf := f.lifeFlags()
	postal := f.String("to-postal", "", "送付先の郵便番号（7桁）")
	address := f.String("to-address", "", "送付先の住所")
	line2 := f.String("to-line2", "", "送付先の方書")
	name := f.String("to-name", "", "宛名（既定は本人の氏名）")
	reason := f.String("reason", "", "再交付の理由（紛失、破損、申請 など）")
	out := f.String("out", "", "送付書（PDF）の出力先フォルダ")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" || *reason == "" {
		return usagef("使い方: shikaku reissue 加入者キー --to-postal 〒 --to-address 住所 --reason 理由 --out フォルダ")
	}
	key, err := shikaku.ParseMemberKey(pos[0])
	if err != nil {
		return usageError{err.Error()}
	}
	on, err := lf.date()
	if err != nil {
		return err
	}
	if lf.who() == "" {
		return usagef("再交付には担当者名が必要です（--operator または環境変数 SHIKAKU_OPERATOR）")
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		c, err := s.Campaign(ctx, branch)
		if err != nil {
			return err
		}
		fonts, err := pdf.LoadFonts(c.Print.GothicFont, c.Print.MinchoFont)
		if err != nil {
			return err
		}
		req := shikaku.ReissueRequest{Member: key, On: on, Name: *name, Reason: *reason, Operator: lf.who(),
			To: shikaku.MailAddress{PostalCode: strings.ReplaceAll(wareki.Normalize(*postal), "-", ""), Address: *address, Line2: *line2}}
		var m *shikaku.Mailing
		var path string
		err = s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error {
			var err error
			if m, err = shikaku.Reissue(ctx, tx, req, time.Now()); err != nil {
				return err
			}
			// The documents are written before the commit: a sheet that
			// cannot be drawn leaves nothing issued.
			data, problems, err := fonts.CoverSheets(c, []*shikaku.Mailing{m})
			if err != nil {
				return err
			}
			if len(problems) > 0 {
				return pdf.NewGlyphError(problems)
			}
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return err
			}
			path = filepath.Join(*out, "reissue-"+m.ID+".pdf")
			return os.WriteFile(path, data, 0o644)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s に資格確認書 %s（交付年月日 %s、有効期限 %s）を再交付しました。封筒 %s、%s お問い合わせ番号 %s → %s\n",
			key, m.Cards[0].ID, wareki.Japanese(on), wareki.Japanese(m.Cards[0].ValidUntil), m.ID, c.Mail.Service, m.TrackingNumber.Printed(), path)
		return nil
	})
}

// ---- lookup ----

var memberKeyRe = regexp.MustCompile(`^\d{2}-\d{1,8}-\d{1,8}-\d{2}$`)

// parseLookup reads what an operator typed.
func parseLookup(args []string) (shikaku.LookupQuery, error) {
	text := strings.TrimSpace(strings.Join(args, " "))
	q := shikaku.LookupQuery{Text: text}
	norm := width.Narrow.String(text)
	switch {
	case text == "":
		return q, usagef("照会する加入者キー、お問い合わせ番号、封筒番号、資格確認書番号、またはカナ氏名と生年月日を指定してください")
	case memberKeyRe.MatchString(norm):
		k, err := shikaku.ParseMemberKey(norm)
		if err != nil {
			return q, usageError{err.Error()}
		}
		q.Key = &k
	case strings.HasPrefix(strings.ToUpper(norm), "C") && len(norm) == 11:
		id, err := shikaku.ParseCertificateID(norm)
		if err != nil {
			return q, usageError{err.Error()}
		}
		q.Cert = id
	case strings.HasPrefix(strings.ToUpper(norm), "E") || regexp.MustCompile(`^[\d\- ]+$`).MatchString(norm):
		if _, _, err := shikaku.ParseEnvelopeRef(norm); err != nil {
			return q, usageError{err.Error()}
		}
		q.Ref = norm
	default:
		fields := strings.Fields(strings.ReplaceAll(text, "　", " "))
		if len(fields) < 2 {
			return q, usagef("カナ氏名で照会するときは生年月日も指定してください（例: カゴシマ タロウ 1980-01-01）")
		}
		birth, err := wareki.Parse(fields[len(fields)-1])
		if err != nil {
			return q, usagef("最後の %q を生年月日として読めません（例: 1980-01-01、S55.1.1）", fields[len(fields)-1])
		}
		q.Kana = width.Widen.String(strings.Join(fields[:len(fields)-1], ""))
		q.Birth = birth
	}
	return q, nil
}

// LookupJSON is one person of lookup --json (interface.md).
type LookupJSON struct {
	Key          string            `json:"key"`
	Name         string            `json:"name"`
	NameKana     string            `json:"name_kana"`
	BirthDate    string            `json:"birth_date"`
	Decision     string            `json:"decision"`
	Explanation  string            `json:"explanation"`
	DV           bool              `json:"dv"`
	Certificates []CertificateJSON `json:"certificates"`
	Events       []EventJSON       `json:"events"`
}

// CertificateJSON is a certificate in lookup --json.
type CertificateJSON struct {
	CertificateID string `json:"certificate_id"`
	IssuedOn      string `json:"issued_on"`
	ValidUntil    string `json:"valid_until"`
	State         string `json:"state"`
	EnvelopeID    string `json:"envelope_id"`
	TrackingNo    string `json:"tracking_no"`
}

// EventJSON is a dated event in lookup --json.
type EventJSON struct {
	On            string `json:"on"`
	Kind          string `json:"kind"`
	CertificateID string `json:"certificate_id"`
	EnvelopeID    string `json:"envelope_id"`
	TrackingNo    string `json:"tracking_no"`
	Reason        string `json:"reason,omitempty"`
}

func runLookup(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "lookup", "lookup [--json] 加入者キー | お問い合わせ番号 | 封筒番号 | 資格確認書番号 | カナ氏名 生年月日")
	lf := f.lifeFlags()
	asJSON := f.Bool("json", false, "JSON で出力する")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	q, err := parseLookup(pos)
	if err != nil {
		return err
	}
	asOf, err := lf.date()
	if err != nil {
		return err
	}
	if lf.who() == "" {
		return usagef("照会には担当者名が必要です（--operator または環境変数 SHIKAKU_OPERATOR）。照会はすべて記録されます")
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		var persons []*shikaku.Person
		err := s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error {
			var err error
			persons, err = shikaku.Lookup(ctx, tx, q, lf.who(), time.Now())
			return err
		})
		if err != nil {
			return err
		}
		out := make([]LookupJSON, 0, len(persons))
		for _, p := range persons {
			out = append(out, personJSON(p, asOf))
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(out) == 0 {
			fmt.Fprintf(e.stdout, "「%s」に当たる加入者は見つかりませんでした\n", q.Text)
			return nil
		}
		for i, p := range out {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			printPerson(e.stdout, p, persons[i])
		}
		return nil
	})
}

func personJSON(p *shikaku.Person, asOf time.Time) LookupJSON {
	m := p.Member
	j := LookupJSON{Key: m.Key.String(), Name: m.Name, NameKana: m.NameKana, BirthDate: wareki.Format(m.BirthDate),
		Decision: string(p.Decision), Explanation: p.Decision.Explain(), DV: m.DV,
		Certificates: []CertificateJSON{}, Events: []EventJSON{}}
	var events []shikaku.Event
	for _, c := range p.Certificates {
		j.Certificates = append(j.Certificates, CertificateJSON{CertificateID: c.ID, IssuedOn: wareki.Format(c.IssuedOn),
			ValidUntil: wareki.Format(c.ValidUntil), State: string(c.State(asOf)), EnvelopeID: c.EnvelopeID, TrackingNo: c.Tracking.String()})
		if !asOf.Before(c.SendOn) {
			events = append(events, shikaku.Event{On: c.SendOn, Kind: shikaku.EventMailed, CertificateID: c.ID, EnvelopeID: c.EnvelopeID, TrackingNumber: c.Tracking})
		}
		for _, ev := range c.Events {
			if !ev.On.After(asOf) {
				events = append(events, ev)
			}
		}
	}
	shikaku.SortEvents(events)
	for _, ev := range events {
		j.Events = append(j.Events, EventJSON{On: wareki.Format(ev.On), Kind: string(ev.Kind), CertificateID: ev.CertificateID,
			EnvelopeID: ev.EnvelopeID, TrackingNo: ev.TrackingNumber.String(), Reason: ev.Reason})
	}
	return j
}

func printPerson(w io.Writer, j LookupJSON, p *shikaku.Person) {
	m := p.Member
	fmt.Fprintf(w, "■ %s %s（%s）生年月日 %s\n", j.Key, m.Name, m.NameKana, wareki.Japanese(m.BirthDate))
	if m.DV {
		fmt.Fprintln(w, "  ※ DV 登録があります。住所・世帯・送付状況は本人確認のうえ、本人以外には回答しないでください")
	}
	if p.Decision != "" {
		fmt.Fprintf(w, "  判定: %s（%s）\n  理由: %s\n", p.Decision.Label(), p.Decision, p.Decision.Explain())
	} else {
		fmt.Fprintln(w, "  判定: まだ抽出（extract）されていません")
	}
	if len(j.Certificates) == 0 {
		fmt.Fprintln(w, "  資格確認書: ありません")
	}
	for _, c := range j.Certificates {
		tn, _ := shikaku.ParseTrackingNumber(c.TrackingNo)
		fmt.Fprintf(w, "  資格確認書 %s  交付 %s  有効期限 %s  状態: %s\n", c.CertificateID, c.IssuedOn, c.ValidUntil, shikaku.CertState(c.State).Label())
		fmt.Fprintf(w, "    封筒 %s  お問い合わせ番号 %s\n", c.EnvelopeID, tn.Printed())
	}
	if len(j.Events) > 0 {
		fmt.Fprintln(w, "  履歴:")
	}
	for _, ev := range j.Events {
		extra := ""
		if ev.Reason != "" {
			r := ev.Reason
			if ev.Kind == string(shikaku.EventHeld) {
				r = shikaku.HeldReasonLabel(r)
			}
			extra = "（" + r + "）"
		}
		tn, _ := shikaku.ParseTrackingNumber(ev.TrackingNo)
		fmt.Fprintf(w, "    %s  %s%s  %s  封筒 %s  お問い合わせ番号 %s\n", ev.On, shikaku.EventKind(ev.Kind).Label(), extra, ev.CertificateID, ev.EnvelopeID, tn.Printed())
	}
}

// ---- status ----

// StatusJSON is status --json (interface.md).
type StatusJSON struct {
	Campaign       string             `json:"campaign"`
	BranchCode     string             `json:"branch_code"`
	AsOf           string             `json:"as_of"`
	Steps          []StepJSON         `json:"steps"`
	Next           *StepJSON          `json:"next"`
	Reconciliation ReconciliationJSON `json:"reconciliation"`
}

// StepJSON is one step of the schedule.
type StepJSON struct {
	Name   string          `json:"name"`
	Label  string          `json:"label"`
	DueOn  string          `json:"due_on"`
	DoneOn *string         `json:"done_on"`
	Counts json.RawMessage `json:"counts,omitempty"`
}

// ReconciliationJSON is the reconciliation of status --json.
type ReconciliationJSON struct {
	Members      int            `json:"members"`
	Decisions    map[string]int `json:"decisions"`
	Certificates int            `json:"certificates"`
	States       map[string]int `json:"states"`
	Balanced     bool           `json:"balanced"`
	Problems     []string       `json:"problems"`
}

func runStatus(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "status", "status [--json] [--on 日付]")
	lf := f.lifeFlags()
	asJSON := f.Bool("json", false, "JSON で出力する")
	if _, err := f.parse(args); err != nil {
		return err
	}
	asOf, err := lf.date()
	if err != nil {
		return err
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		sum, err := s.Summary(ctx, branch)
		if err != nil {
			return err
		}
		var st *shikaku.Status
		var c *shikaku.Campaign
		err = s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error {
			c = tx.Campaign()
			steps, err := tx.Steps(ctx)
			if err != nil {
				return err
			}
			states, total, err := tx.CertificateStates(ctx, asOf)
			if err != nil {
				return err
			}
			st = shikaku.NewStatus(c, steps, sum, states, total, asOf)
			return nil
		})
		if err != nil {
			return err
		}
		j := statusJSON(c, st)
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(j); err != nil {
				return err
			}
		} else {
			printStatus(e.stdout, c, st)
		}
		if !st.Reconciliation.Balanced {
			fmt.Fprintln(e.stderr, "!!!!!!!! 件数が合いません !!!!!!!!")
			for _, p := range st.Reconciliation.Problems {
				fmt.Fprintln(e.stderr, "!! "+p)
			}
			return errors.New("件数の突合が合いません（上の !! の行）。処理を止めてシステム管理者に連絡してください")
		}
		return nil
	})
}

func statusJSON(c *shikaku.Campaign, st *shikaku.Status) StatusJSON {
	j := StatusJSON{Campaign: c.Name, BranchCode: c.BranchCode, AsOf: wareki.Format(st.AsOf)}
	for _, s := range st.Steps {
		sj := StepJSON{Name: s.Name, Label: s.Label, DueOn: wareki.Format(s.DueOn)}
		if !s.DoneOn.IsZero() {
			d := wareki.Format(s.DoneOn)
			sj.DoneOn = &d
		}
		if s.Detail != "" && json.Valid([]byte(s.Detail)) {
			sj.Counts = json.RawMessage(s.Detail)
		}
		j.Steps = append(j.Steps, sj)
		if st.Next == &st.Steps[len(j.Steps)-1] {
			n := sj
			j.Next = &n
		}
	}
	r := st.Reconciliation
	j.Reconciliation = ReconciliationJSON{Members: r.Members, Decisions: map[string]int{}, Certificates: r.Certificates,
		States: map[string]int{}, Balanced: r.Balanced, Problems: append([]string{}, r.Problems...)}
	for k, v := range r.Decisions {
		j.Reconciliation.Decisions[string(k)] = v
	}
	for k, v := range r.States {
		j.Reconciliation.States[string(k)] = v
	}
	return j
}

func printStatus(w io.Writer, c *shikaku.Campaign, st *shikaku.Status) {
	fmt.Fprintf(w, "■ %s（支部 %s）%s 現在\n\n", c.Name, c.BranchCode, wareki.Japanese(st.AsOf))
	for i := range st.Steps {
		s := &st.Steps[i]
		mark, done := "  ", "未了"
		if !s.DoneOn.IsZero() {
			mark, done = "✓ ", wareki.Format(s.DoneOn)+" 済"
		}
		if st.Next == s {
			mark = "→ "
		}
		fmt.Fprintf(w, "  %s%s  予定 %s  %s\n", mark, padRight(s.Label, 34), wareki.Format(s.DueOn), done)
	}
	if st.Next != nil {
		fmt.Fprintf(w, "\n  次の作業: %s（予定 %s）\n", st.Next.Label, wareki.Japanese(st.Next.DueOn))
	}
	r := st.Reconciliation
	fmt.Fprintf(w, "\n■ 件数の突合\n  加入者 %s 名 = 判定の合計 %s 件\n", num(r.Members), num(r.Decided))
	for _, code := range shikaku.ReasonCodes {
		fmt.Fprintf(w, "    %s %10s 名\n", padRight(code.Label()+"（"+string(code)+"）", 46), num(r.Decisions[code]))
	}
	fmt.Fprintf(w, "  資格確認書 %s 枚 = 状態別の合計 %s 枚\n", num(r.Certificates), num(r.InStates))
	for _, s := range shikaku.CertStates {
		fmt.Fprintf(w, "    %s %10s 枚\n", padRight(s.Label()+"（"+string(s)+"）", 46), num(r.States[s]))
	}
	if r.Balanced {
		fmt.Fprintln(w, "  突合: 一致しています")
	} else {
		fmt.Fprintln(w, "  突合: 一致しません")
	}
}

// ---- access log ----

// AccessJSON is one entry of accesslog --json.
type AccessJSON struct {
	At       string   `json:"at"`
	Operator string   `json:"operator"`
	Query    string   `json:"query"`
	Persons  []string `json:"persons"`
}

func runAccessLog(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "accesslog", "accesslog [--from 日付] [--through 日付] [--json]")
	from := f.String("from", "", "この日から")
	through := f.String("through", "", "この日まで")
	asJSON := f.Bool("json", false, "JSON で出力する")
	if _, err := f.parse(args); err != nil {
		return err
	}
	day := func(flag, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		d, err := wareki.Parse(v)
		if err != nil {
			return d, usagef("--%s %q は日付として読めません", flag, v)
		}
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.Local), nil
	}
	fromDay, err := day("from", *from)
	if err != nil {
		return err
	}
	throughDay, err := day("through", *through)
	if err != nil {
		return err
	}
	return f.withCampaign(ctx, func(s shikaku.Store, branch string) error {
		var log []shikaku.Access
		if err := s.Lifecycle(ctx, branch, func(tx shikaku.LifeTx) error {
			var err error
			log, err = tx.AccessLog(ctx, fromDay, throughDay)
			return err
		}); err != nil {
			return err
		}
		out := make([]AccessJSON, 0, len(log))
		for _, a := range log {
			j := AccessJSON{At: a.At.Local().Format(time.RFC3339), Operator: a.Operator, Query: a.Query, Persons: []string{}}
			for _, k := range a.Persons {
				j.Persons = append(j.Persons, k.String())
			}
			out = append(out, j)
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		if len(out) == 0 {
			fmt.Fprintln(e.stdout, "照会の記録はありません")
		}
		for _, j := range out {
			fmt.Fprintf(e.stdout, "%s  %s  「%s」 → %d 名 %s\n", j.At, j.Operator, j.Query, len(j.Persons), strings.Join(j.Persons, " "))
		}
		return nil
	})
}
