package pdf

import (
	"fmt"
	"strings"
	"time"

	"shikaku"
	"shikaku/wareki"
)

// EmployerList is one employer's 対象者一覧表: the certificates its
// employees' households receive, in key order.
type EmployerList struct {
	Employer shikaku.Employer
	Lines    []shikaku.EmployerLine
}

// ResendLetter is the 事業所様宛送付文書 of one package of undelivered
// envelopes re-sent to an employer.
type ResendLetter struct {
	Employer       shikaku.Employer
	On             time.Time // the resend date
	EnvelopeID     string    // the package to the employer
	TrackingNumber shikaku.TrackingNumber
	Persons        []ResendPerson
}

// ResendPerson is one certificate in a resent envelope.
type ResendPerson struct {
	OriginalEnvelopeID string
	Member             shikaku.MemberKey
	Name               string
	Relationship       shikaku.Relationship
}

// addressee is how a letter to an employer is addressed: 御中 to the
// office, or 様 to the named contact.
func addressee(e shikaku.Employer) (line1, line2 string) {
	if strings.TrimSpace(e.Contact) == "" {
		return e.Name + " 御中", ""
	}
	return e.Name, e.Contact + " 様"
}

// letterHead draws the employer's address block (for a window envelope),
// the date and the sender; it returns the y below.
func (d *doc) letterHead(c *shikaku.Campaign, e shikaku.Employer, on time.Time) {
	who := "事業所 " + e.Code
	d.text(24, 18, 10, postal(e.PostalCode), who, "郵便番号")
	y := 24.0
	for _, l := range splitRunes(e.Address, 24) {
		d.text(24, y, 10, l, who, "所在地")
		y += 5
	}
	if e.AddressLine2 != "" {
		d.text(24, y, 10, e.AddressLine2, who, "方書")
		y += 5
	}
	l1, l2 := addressee(e)
	d.text(28, y+2, 12, l1, who, "事業所名称")
	if l2 != "" {
		d.text(34, y+8, 11, l2, who, "担当者")
	}
	d.right(194, 16, 9, wareki.Japanese(on))
	d.fixed(128, 20, 10, c.Insurer.Name)
	sy := d.paragraph(128, 25, 194-128, 7.5, 3.4, strings.TrimSpace(postal(c.Insurer.PostalCode)+" "+c.Insurer.Address))
	d.fixed(128, sy, 7.5, "マイナンバー専用ダイヤル "+c.Insurer.Phone)
}

// table draws a header row and returns a function drawing one row.
type column struct {
	title string
	x, w  float64
}

func (d *doc) tableHeader(cols []column, y float64) {
	d.gp.SetGrayFill(0.9)
	d.fill(marginX, y, pageW-2*marginX, 6)
	d.gp.SetGrayFill(0)
	d.rect(marginX, y, pageW-2*marginX, 6)
	for _, c := range cols {
		d.fixed(c.x+1, y+1.5, 8, c.title)
	}
}

const (
	rowH          = 6.0
	firstTableTop = 104.0
	nextTableTop  = 28.0
	tableBottom   = 272.0
)

// rowsPerPage is how many table rows fit on the first and on later pages.
func rowsPerPage() (first, next int) {
	f, n := (tableBottom-firstTableTop-rowH)/rowH, (tableBottom-nextTableTop-rowH)/rowH
	return int(f), int(n)
}

// pageCount is the number of pages a table of n rows takes.
func pageCount(n int) int {
	first, next := rowsPerPage()
	if n <= first {
		return 1
	}
	return 1 + (n-first+next-1)/next
}

// tablePages draws n rows over as many pages as needed: first is drawn
// above the table of page 1, row(i, y) draws row i, footer(page, pages)
// ends each page.
func (d *doc) tablePages(n int, cols []column, first func(), row func(i int, y float64), footer func(page, pages int)) {
	pages := pageCount(n)
	perFirst, perNext := rowsPerPage()
	i := 0
	for p := 1; p <= pages; p++ {
		d.gp.AddPage()
		top := nextTableTop
		limit := perNext
		if p == 1 {
			first()
			top, limit = firstTableTop, perFirst
		}
		d.tableHeader(cols, top)
		y := top + rowH
		for k := 0; k < limit && i < n; k++ {
			d.line(marginX, y+rowH, pageW-marginX, y+rowH)
			row(i, y)
			i++
			y += rowH
		}
		footer(p, pages)
	}
}

// EmployerListPDF renders one employer's 対象者一覧表.
func (f *Fonts) EmployerListPDF(c *shikaku.Campaign, l *EmployerList) ([]byte, []GlyphProblem, error) {
	d, err := f.newDoc("資格確認書 送付対象者一覧表 " + l.Employer.Name)
	if err != nil {
		return nil, nil, err
	}
	households := 0
	for i, ln := range l.Lines {
		if i == 0 || ln.Member.HouseholdKey != l.Lines[i-1].Member.HouseholdKey {
			households++
		}
	}
	cols := []column{{"No.", 15, 10}, {"記号", 25, 20}, {"番号", 45, 16}, {"枝番", 61, 10}, {"氏名", 71, 38},
		{"フリガナ", 109, 40}, {"続柄", 149, 16}, {"送付予定日", 165, 30}}
	d.tablePages(len(l.Lines), cols,
		func() {
			d.letterHead(c, l.Employer, c.Dates.EmployerListOn)
			d.centre(pageW/2, 62, 15, "資格確認書 送付対象者一覧表")
			y := d.paragraph(marginX, 72, pageW-2*marginX, 9, 4.6, employerListText(c))
			d.fixed(marginX, y+2, 9, fmt.Sprintf("事業所記号 %s　　対象者 %d 名（%d 世帯）", l.Employer.Code, len(l.Lines), households))
		},
		func(i int, y float64) {
			ln := &l.Lines[i]
			who := ln.Member.String()
			d.fixed(cols[0].x+1, y+1.6, 8.5, fmt.Sprint(i+1))
			d.fixed(cols[1].x+1, y+1.6, 8.5, ln.Member.Symbol)
			d.fixed(cols[2].x+1, y+1.6, 8.5, ln.Member.Number)
			d.fixed(cols[3].x+1, y+1.6, 8.5, ln.Member.BranchNo)
			d.text(cols[4].x+1, y+1.4, 9.5, ln.Name, who, "氏名")
			d.text(cols[5].x+1, y+1.8, 7.5, ln.NameKana, who, "氏名カナ")
			d.fixed(cols[6].x+1, y+1.6, 8.5, ln.Relationship.Label())
			d.fixed(cols[7].x+1, y+1.6, 8.5, jp(ln.SendOn))
		},
		func(page, pages int) {
			if page == pages {
				d.right(pageW-marginX, tableBottom+3, 9, fmt.Sprintf("合計 %d 名（%d 世帯）", len(l.Lines), households))
			}
			d.centre(pageW/2, 285, 8, fmt.Sprintf("%s　事業所記号 %s　%d / %d ページ", c.Insurer.Name, l.Employer.Code, page, pages))
		})
	if len(d.problems) > 0 {
		return nil, dedupe(d.problems), nil
	}
	b, err := d.bytes()
	return b, nil, err
}

func employerListText(c *shikaku.Campaign) string {
	last := c.Dates.CardLastValidOn
	return fmt.Sprintf("平素より協会けんぽの事業運営にご理解とご協力を賜り、厚く御礼申し上げます。%sから健康保険証が使用できなくなることに伴い、マイナ保険証による資格確認を受けられない状況にある加入者様に、資格確認書を被保険者様のご自宅へ特定記録郵便でお送りいたします。貴事業所の送付対象者は下記のとおりです。宛所不明等の理由によりお届けできなかった場合は貴事業所あてにお送りいたしますので、速やかに従業員様へお渡しくださいますようお願いいたします。お問い合わせは協会けんぽマイナンバー専用ダイヤル（%s）までお願いいたします。",
		wareki.Japanese(last.AddDate(0, 0, 1)), c.Insurer.Phone)
}

// ResendLetterPDF renders the 事業所様宛送付文書 of one resend package.
func (f *Fonts) ResendLetterPDF(c *shikaku.Campaign, l *ResendLetter) ([]byte, []GlyphProblem, error) {
	d, err := f.newDoc("資格確認書の送付について " + l.Employer.Name)
	if err != nil {
		return nil, nil, err
	}
	envelopes := map[string]bool{}
	for _, p := range l.Persons {
		envelopes[p.OriginalEnvelopeID] = true
	}
	cols := []column{{"No.", 15, 10}, {"記号", 25, 20}, {"番号", 45, 16}, {"枝番", 61, 10}, {"氏名", 71, 44},
		{"続柄", 115, 18}, {"封筒番号", 133, 32}, {"確認欄", 165, 30}}
	d.tablePages(len(l.Persons), cols,
		func() {
			d.letterHead(c, l.Employer, l.On)
			d.centre(pageW/2, 62, 15, "資格確認書の送付について（お願い）")
			y := d.paragraph(marginX, 72, pageW-2*marginX, 9, 4.6, resendText(c))
			d.fixed(marginX, y+2, 9, fmt.Sprintf("同封の封筒 %d 通・資格確認書 %d 枚　　%s お問い合わせ番号 %s（%s）",
				len(envelopes), len(l.Persons), c.Mail.Service, l.TrackingNumber.Printed(), l.EnvelopeID))
		},
		func(i int, y float64) {
			p := &l.Persons[i]
			d.fixed(cols[0].x+1, y+1.6, 8.5, fmt.Sprint(i+1))
			d.fixed(cols[1].x+1, y+1.6, 8.5, p.Member.Symbol)
			d.fixed(cols[2].x+1, y+1.6, 8.5, p.Member.Number)
			d.fixed(cols[3].x+1, y+1.6, 8.5, p.Member.BranchNo)
			d.text(cols[4].x+1, y+1.4, 9.5, p.Name, p.Member.String(), "氏名")
			d.fixed(cols[5].x+1, y+1.6, 8.5, p.Relationship.Label())
			d.fixed(cols[6].x+1, y+1.6, 8.5, p.OriginalEnvelopeID)
		},
		func(page, pages int) {
			d.centre(pageW/2, 285, 8, fmt.Sprintf("%s　事業所記号 %s　%d / %d ページ", c.Insurer.Name, l.Employer.Code, page, pages))
		})
	if len(d.problems) > 0 {
		return nil, dedupe(d.problems), nil
	}
	b, err := d.bytes()
	return b, nil, err
}

func resendText(c *shikaku.Campaign) string {
	return fmt.Sprintf("平素より協会けんぽの事業運営にご理解とご協力を賜り、厚く御礼申し上げます。被保険者様のご自宅あてに特定記録郵便でお送りした資格確認書が、宛所不明等の理由によりお届けできませんでした。つきましては、お手数をおかけいたしますが、同封の封筒（送付書兼資格確認書貼付台紙、資格確認書、説明用チラシ、個人情報保護シール、返信用封筒）を、下記の従業員様へ速やかにお渡しくださいますようお願いいたします。すでに退職された方の分は、同封物を当協会あてにご返送ください。お問い合わせは協会けんぽマイナンバー専用ダイヤル（%s）までお願いいたします。",
		c.Insurer.Phone)
}
