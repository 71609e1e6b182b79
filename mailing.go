package shikaku

import (
	"iter"
	"time"
)

// Card is a certificate with everything printed on it.
type Card struct {
	Certificate
	Name         string
	NameKana     string
	BirthDate    time.Time
	Sex          int
	Relationship Relationship
	AcquiredOn   time.Time
	CopayRate    int // 0: not printed
}

// SexLabel is the word printed for a member's sex.
func SexLabel(sex int) string {
	switch sex {
	case 1:
		return "男"
	case 2:
		return "女"
	}
	return ""
}

// PersonLabel is what a card prints under 本人・家族.
func PersonLabel(r Relationship) string {
	if r == Self {
		return "本人（被保険者）"
	}
	return "家族（被扶養者）"
}

// Mailing is an envelope with what is printed for it: the cover sheet
// (送付書兼資格確認書貼付台紙) and the cards mounted on it.
type Mailing struct {
	Envelope             // Envelope.Certificates is not used: Cards holds them
	AddresseeName string // 宛名
	Language      string // which flyer (説明用チラシ) goes in: the addressee's language
	Cards         []Card
}

// MailingRow is one card with its envelope, as a store reads them in
// print order: envelope by envelope, cards in position order.
type MailingRow struct {
	Mailing // without Cards
	Card    Card
}

// GroupMailings folds the rows of a print-order read into mailings,
// holding one envelope at a time.
func GroupMailings(rows iter.Seq2[MailingRow, error]) iter.Seq2[*Mailing, error] {
	return func(yield func(*Mailing, error) bool) {
		var cur *Mailing
		for r, err := range rows {
			if err != nil {
				yield(nil, err)
				return
			}
			if cur != nil && cur.ID != r.ID {
				if !yield(cur, nil) {
					return
				}
				cur = nil
			}
			if cur == nil {
				m := r.Mailing
				m.Cards = make([]Card, 0, 4)
				cur = &m
			}
			cur.Cards = append(cur.Cards, r.Card)
		}
		if cur != nil {
			yield(cur, nil)
		}
	}
}
