package pdf

import (
	"fmt"
	"strings"
	"time"

	"shikaku"
	"shikaku/wareki"
)

// Card and mount geometry (mm). A card is ID-1 (85.6 × 54 mm); the mount
// holds four in two rows below the letter, numbered ①–④.
const (
	cardW, cardH = 85.6, 54.0
	mountTop     = 160.0
	cardGapX     = 8.0
	cardGapY     = 11.0
	pageW        = 210.0
	marginX      = 15.0
)

var positionMarks = []string{"①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧"}

// cardOrigin is the top-left corner of mount position i (0-based).
func cardOrigin(i int) (x, y float64) {
	x0 := (pageW - 2*cardW - cardGapX) / 2
	return x0 + float64(i%2)*(cardW+cardGapX), mountTop + 8 + float64(i/2)*(cardH+cardGapY)
}

// CardBarcodeBox is where the certificate ID barcode sits on a card,
// relative to the card's corner (x, y, w, h in mm): for scanners and tests.
var CardBarcodeBox = [4]float64{45, 30, 37, 8}

// EnvelopeBarcodeBox is where the envelope ID barcode sits on a cover
// sheet (x, y, w, h in mm).
var EnvelopeBarcodeBox = [4]float64{128, 42.5, 66, 10}

// CardOrigin is the top-left corner of mount position i (0-based), in mm.
func CardOrigin(i int) (x, y float64) { return cardOrigin(i) }

// coverTexts are the campaign's explanation paragraphs (from the seed).
func coverTexts(c *shikaku.Campaign) []string {
	last := c.Dates.CardLastValidOn
	first := last.AddDate(0, 0, 1)
	return []string{
		fmt.Sprintf("%sより現在お持ちの健康保険証は使用することができなくなります（%sまではご使用いただけます）。マイナ保険証をお持ちの方はマイナ保険証を利用して医療機関等を受診していただけますが、マイナ保険証をお持ちでない方が医療機関等を受診する際には資格確認書が必要です。",
			wareki.Japanese(first), wareki.Japanese(last)),
		"【資格確認書とは】マイナ保険証をお持ちでない場合（マイナンバーカードをお持ちでない、健康保険証の利用登録を行っていない、電子証明書の有効期限が切れている等）に、医療機関等の窓口へ提示することで、これまでどおり保険診療を受けることができるものです。",
		"【資格確認書を複数お持ちの場合】資格確認書の右上にある交付年月日をご確認いただき、新しい日付のものをご使用ください。古い日付のものは同封の返信用封筒にてご返却ください。",
		fmt.Sprintf("【健康保険証の取扱い】%sまでは健康保険証を使用することができますが、%s以降は使用できなくなるため、ご自身で破棄してください。資格確認書が届いた時点で当協会に加入されていない場合は、同封の返信用封筒にて資格確認書をご返却ください。ご返却いただいた資格確認書は使用できないため、速やかに廃棄いたします。",
			wareki.Japanese(last), wareki.Japanese(first)),
		"【お問い合わせ】協会けんぽマイナンバー専用ダイヤル " + c.Insurer.Phone,
	}
}

// postal prints a 7-digit postal code as 〒892-8540.
func postal(code string) string {
	if len(code) == 7 {
		return "〒" + code[:3] + "-" + code[3:]
	}
	if code == "" {
		return ""
	}
	return "〒" + code
}

// coverSheet draws one envelope's 送付書兼資格確認書貼付台紙 on a new page.
func (d *doc) coverSheet(c *shikaku.Campaign, m *shikaku.Mailing) error {
	d.gp.AddPage()
	who := m.Addressee.String()

	// Address block, placed for the window of a 長3 envelope with the
	// sheet folded in three.
	d.text(24, 18, 10, postal(m.To.PostalCode), who, "郵便番号")
	y := 24.0
	for _, l := range splitRunes(m.To.Address, 24) {
		d.text(24, y, 10.5, l, who, "住所")
		y += 5
	}
	if m.To.Line2 != "" {
		d.text(24, y, 10, m.To.Line2, who, "方書")
		y += 5
	}
	d.text(30, max(y+3, 40), 14, m.AddresseeName+" 様", who, "宛名")
	d.fixed(24, 53, 8, c.Mail.Service+" お問い合わせ番号 "+m.TrackingNumber.Printed())

	// Sender, date, envelope k/n and the envelope ID barcode.
	d.right(194, 16, 9, wareki.Japanese(m.SendOn))
	d.fixed(128, 20, 10, c.Insurer.Name)
	sy := d.paragraph(128, 25, 194-128, 7.5, 3.4, strings.TrimSpace(postal(c.Insurer.PostalCode)+" "+c.Insurer.Address))
	d.fixed(128, sy, 7.5, "マイナンバー専用ダイヤル "+c.Insurer.Phone)
	d.fixed(128, 37, 9, fmt.Sprintf("封筒 %d / %d 通目", m.K, m.N))
	b := EnvelopeBarcodeBox
	if err := d.barcode(b[0], b[1], b[2], b[3], m.ID); err != nil {
		return err
	}
	d.centre(b[0]+b[2]/2, b[1]+b[3]+0.8, 7, m.ID)

	// The letter.
	d.centre(pageW/2, 66, 15, "資格確認書をお送りいたします")
	y = 76
	for _, p := range d.campaignTexts(c) {
		y = d.paragraph(marginX, y, pageW-2*marginX, 8.5, 4.1, p) + 1.2
	}

	// What is enclosed.
	y += 1
	d.fixed(marginX, y, 9, fmt.Sprintf("同封の資格確認書（%d 枚）", len(m.Cards)))
	y += 5
	for i, card := range m.Cards {
		d.fixed(marginX+3, y, 9, positionMarks[i])
		d.text(marginX+9, y, 9, card.Name+" 様", card.Member.String(), "氏名")
		d.fixed(marginX+60, y, 9, PersonWord(card.Relationship))
		d.fixed(marginX+90, y, 9, "資格確認書番号 "+card.ID)
		y += 4.6
	}

	// The mount: fold line, then the four positions.
	d.gp.SetLineType("dotted")
	d.line(5, mountTop-2, pageW-5, mountTop-2)
	d.gp.SetLineType("")
	d.fixed(marginX, mountTop+1, 8, "資格確認書貼付台紙　同封物：資格確認書・説明用チラシ・個人情報保護シール・返信用封筒")
	for i := range max(4, len(m.Cards)) {
		x, y := cardOrigin(i)
		if i < 4 {
			d.fixed(x, y-4.2, 8, positionMarks[i])
		}
		if i < len(m.Cards) {
			if err := d.card(c, x, y, &m.Cards[i]); err != nil {
				return err
			}
		} else if i < 4 {
			d.dashed(x, y, cardW, cardH)
		}
	}
	return nil
}

// PersonWord is 本人 or 家族 as the enclosed list names a member.
func PersonWord(r shikaku.Relationship) string {
	if r == shikaku.Self {
		return "本人"
	}
	return "家族（" + r.Label() + "）"
}

func (d *doc) campaignTexts(c *shikaku.Campaign) []string {
	if d.texts == nil || d.textsFor != c {
		d.texts, d.textsFor = coverTexts(c), c
	}
	return d.texts
}

// card draws one 資格確認書 with its top-left corner at (x, y).
func (d *doc) card(c *shikaku.Campaign, x, y float64, k *shikaku.Card) error {
	who := k.Member.String()
	d.rect(x, y, cardW, cardH)
	d.fixed(x+3, y+2.5, 12, "資格確認書")
	d.right(x+cardW-3, y+2.5, 6, "交付年月日 "+wareki.Japanese(k.IssuedOn))
	d.right(x+cardW-3, y+6, 6, "有効期限 "+wareki.Japanese(k.ValidUntil))

	d.fixed(x+3, y+10.5, 5.5, "記号")
	d.fixed(x+9, y+10, 7.5, k.Member.Symbol)
	d.fixed(x+27, y+10.5, 5.5, "番号")
	d.fixed(x+33, y+10, 7.5, k.Member.Number)
	d.fixed(x+48, y+10.5, 5.5, "（枝番）")
	d.fixed(x+57, y+10, 7.5, k.Member.BranchNo)

	d.fixed(x+3, y+15, 5.5, "フリガナ")
	d.text(x+13, y+15, 6, k.NameKana, who, "氏名カナ")
	d.fixed(x+3, y+19.5, 5.5, "氏名")
	d.text(x+13, y+18.5, 10, k.Name, who, "氏名")

	d.fixed(x+3, y+25, 5.5, "生年月日")
	d.fixed(x+13, y+24.8, 7, wareki.Japanese(k.BirthDate))
	d.fixed(x+42, y+25, 5.5, "性別")
	d.fixed(x+48, y+24.8, 7, shikaku.SexLabel(k.Sex))
	d.fixed(x+3, y+29.5, 5.5, "本人・家族")
	d.fixed(x+15, y+29.3, 7, shikaku.PersonLabel(k.Relationship))
	d.fixed(x+3, y+34, 5.5, "資格取得年月日")
	d.fixed(x+18, y+33.8, 7, wareki.Japanese(k.AcquiredOn))
	if k.CopayRate > 0 {
		d.fixed(x+3, y+38.5, 5.5, "一部負担金の割合")
		d.fixed(x+20, y+38.3, 7, fmt.Sprintf("%d割", k.CopayRate))
	}

	b := CardBarcodeBox
	if err := d.barcode(x+b[0], y+b[1], b[2], b[3], k.ID); err != nil {
		return err
	}
	d.centre(x+b[0]+b[2]/2, y+b[1]+b[3]+0.5, 5.5, k.ID)

	d.line(x+2, y+42.5, x+cardW-2, y+42.5)
	d.fixed(x+3, y+43.5, 5.5, "保険者番号")
	d.fixed(x+15, y+43.3, 7, c.Insurer.Number)
	d.fixed(x+30, y+43.5, 5.5, "保険者名称")
	d.fixed(x+42, y+43.3, 6.5, c.Insurer.Name)
	d.fixed(x+3, y+47.8, 5.5, "保険者所在地")
	d.fixed(x+17, y+47.6, 6, strings.TrimSpace(postal(c.Insurer.PostalCode)+" "+c.Insurer.Address))
	return nil
}

// splitRunes breaks s into lines of at most n characters.
func splitRunes(s string, n int) []string {
	r := []rune(s)
	var out []string
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

// date helpers for documents.
func jp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return wareki.Japanese(t)
}

// CoverSheets renders the cover sheets of mailings, one page each, in the
// order given, as one PDF. Texts no font can draw are returned as
// problems, and then the PDF must not be used.
func (f *Fonts) CoverSheets(c *shikaku.Campaign, mailings []*shikaku.Mailing) ([]byte, []GlyphProblem, error) {
	d, err := f.newDoc(c.Name + " 送付書兼資格確認書貼付台紙")
	if err != nil {
		return nil, nil, err
	}
	for _, m := range mailings {
		if err := d.coverSheet(c, m); err != nil {
			return nil, nil, fmt.Errorf("封筒 %s: %w", m.ID, err)
		}
	}
	if len(d.problems) > 0 {
		return nil, dedupe(d.problems), nil
	}
	b, err := d.bytes()
	return b, nil, err
}
