package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/japanese"

	"shikaku"
	"shikaku/pdf"
	"shikaku/wareki"
)

// VendorHeader is the header of the print-vendor data file: every field
// printed on a cover sheet and its cards, one row per certificate, in
// print order, with the PDF file and page of its cover sheet.
var VendorHeader = []string{
	"wave", "send_on", "file", "page", "envelope_id", "envelope_barcode", "tracking_no", "tracking_no_printed", "k", "n",
	"postal_code", "address", "address_line2", "addressee_name", "language",
	"position", "certificate_id", "certificate_barcode", "branch_code", "symbol", "number", "branch_no",
	"name", "name_kana", "birth_date", "sex", "person", "relationship", "acquired_on", "issued_on", "valid_until", "copay_rate",
	"insurer_number", "insurer_name",
}

// PrintResult is what the print run wrote.
type PrintResult struct {
	Files     []pdf.SpoolFile
	Pages     int
	Envelopes int
}

// writePrint spools the cover sheets into dir/print with the vendor data
// file beside them. Like the employer lists, the folder is built under a
// temporary name and replaces the old one only when complete.
func writePrint(ctx context.Context, s shikaku.Store, c *shikaku.Campaign, fonts *pdf.Fonts, dir, encoding string, progress func(int)) (*PrintResult, error) {
	final := filepath.Join(dir, "print")
	tmp := filepath.Join(dir, ".print.tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("出力先フォルダ %s を作れません: %w", tmp, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	vf, err := os.Create(filepath.Join(tmp, "vendor.csv"))
	if err != nil {
		return nil, fmt.Errorf("印刷データ vendor.csv を作れません: %w", err)
	}
	defer vf.Close()
	bw := bufio.NewWriterSize(vf, 1<<16)
	vw := newVendorWriter(bw, encoding)
	if err := vw.write(VendorHeader, ""); err != nil {
		return nil, err
	}
	rec := make([]string, len(VendorHeader))
	res, err := fonts.Spool(ctx, c, s.Mailings(ctx, c.BranchCode), tmp, c.Print.PerFile(),
		func(m *shikaku.Mailing, file string, page int) error {
			for i := range m.Cards {
				vendorRecord(rec, c, m, file, page, i)
				if err := vw.write(rec, m.Cards[i].Member.String()); err != nil {
					return err
				}
			}
			return nil
		}, progress)
	if err != nil {
		return nil, err
	}
	if err := vw.done(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := vf.Close(); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(final); err != nil {
		return nil, fmt.Errorf("古い印刷データ %s を削除できません: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	done = true
	return &PrintResult{Files: res.Files, Pages: res.Pages, Envelopes: res.Pages}, nil
}

// vendorRecord fills rec with card i of m.
func vendorRecord(rec []string, c *shikaku.Campaign, m *shikaku.Mailing, file string, page, i int) {
	k := &m.Cards[i]
	copay := ""
	if k.CopayRate > 0 {
		copay = strconv.Itoa(k.CopayRate) + "割"
	}
	copy(rec, []string{
		strconv.Itoa(m.Wave), wareki.Format(m.SendOn), file, strconv.Itoa(page), m.ID, m.ID,
		m.TrackingNumber.String(), m.TrackingNumber.Printed(), strconv.Itoa(m.K), strconv.Itoa(m.N),
		m.To.PostalCode, m.To.Address, m.To.Line2, m.AddresseeName, m.Language,
		strconv.Itoa(i + 1), k.ID, k.ID, k.Member.Branch, k.Member.Symbol, k.Member.Number, k.Member.BranchNo,
		k.Name, k.NameKana, wareki.Japanese(k.BirthDate), shikaku.SexLabel(k.Sex), shikaku.PersonLabel(k.Relationship),
		k.Relationship.Label(), wareki.Japanese(k.AcquiredOn), wareki.Japanese(k.IssuedOn), wareki.Japanese(k.ValidUntil), copay,
		c.Insurer.Number, c.Insurer.Name,
	})
}

// vendorWriter writes the vendor CSV in UTF-8 or CP932. In CP932 a field
// the encoding cannot carry (a rare kanji outside JIS) is never replaced:
// every such field is collected and the file refused.
type vendorWriter struct {
	csv      *csv.Writer
	sjis     bool
	enc      []string
	problems []string
}

func newVendorWriter(w io.Writer, encoding string) *vendorWriter {
	return &vendorWriter{csv: csv.NewWriter(w), sjis: encoding == "sjis"}
}

func (v *vendorWriter) write(rec []string, who string) error {
	if !v.sjis {
		return v.csv.Write(rec)
	}
	v.enc = v.enc[:0]
	enc := japanese.ShiftJIS.NewEncoder()
	for i, f := range rec {
		e, err := enc.String(f)
		if err != nil {
			if len(v.problems) < 200 {
				v.problems = append(v.problems, fmt.Sprintf("%s %s「%s」", who, VendorHeader[i], f))
			}
			e = ""
		}
		v.enc = append(v.enc, e)
	}
	return v.csv.Write(v.enc)
}

func (v *vendorWriter) done() error {
	v.csv.Flush()
	if err := v.csv.Error(); err != nil {
		return err
	}
	if len(v.problems) > 0 {
		return fmt.Errorf("印刷データを Shift_JIS（CP932）で書けない文字があります。vendor_encoding = \"utf-8\" にするか、外字の扱いを決めてください:\n  - %s",
			strings.Join(v.problems, "\n  - "))
	}
	return nil
}
