package shikaku

import "time"

// ReasonCode is a member's decision: TARGET or why not (rules.md §1–§2).
type ReasonCode string

const (
	Target               ReasonCode = "TARGET"
	NInactive            ReasonCode = "N_INACTIVE"
	NNoCard              ReasonCode = "N_NO_CARD"
	NMynaUsable          ReasonCode = "N_MYNA_USABLE"
	X1DayLaborer         ReasonCode = "X1_DAY_LABORER"
	X2AlreadyIssued      ReasonCode = "X2_ALREADY_ISSUED"
	X3ContinuationEnding ReasonCode = "X3_CONTINUATION_ENDING"
	X4DV                 ReasonCode = "X4_DV"
	RLostAfterExtraction ReasonCode = "R_LOST_AFTER_EXTRACTION"
)

// ReasonCodes lists every decision in the order reports show them.
var ReasonCodes = []ReasonCode{
	Target, NInactive, NNoCard, NMynaUsable, X1DayLaborer,
	X2AlreadyIssued, X3ContinuationEnding, X4DV, RLostAfterExtraction,
}

// Explain says in Japanese what the decision means, for operators
// answering 「なぜ届かないの？」.
func (c ReasonCode) Explain() string {
	switch c {
	case Target:
		return "送付対象者です（資格確認書をお送りします）"
	case NInactive:
		return "データ時点で資格を喪失しているため対象外です"
	case NNoCard:
		return "健康保険証が発行されていない（令和6年12月2日以降の資格取得・扶養認定の決定）ため対象外です"
	case NMynaUsable:
		return "基準日時点でマイナ保険証を利用できるため対象外です"
	case X1DayLaborer:
		return "日雇特例被保険者（またはその被扶養者）のため対象外です（除外①）"
	case X2AlreadyIssued:
		return "データ抽出時に資格確認書を交付済みのため対象外です（除外②）"
	case X3ContinuationEnding:
		return "任意継続被保険者で資格喪失予定日が基準日以前のため対象外です（除外③）"
	case X4DV:
		return "DV登録があるため一括送付の対象外です（申請により個別に交付します）（除外④）"
	case RLostAfterExtraction:
		return "データ抽出後に資格を喪失したため送付しません（資格喪失者データ突合）"
	}
	return string(c)
}

// Label is a short Japanese name for tables.
func (c ReasonCode) Label() string {
	switch c {
	case Target:
		return "送付対象"
	case NInactive:
		return "資格喪失済み"
	case NNoCard:
		return "保険証未発行"
	case NMynaUsable:
		return "マイナ保険証利用可"
	case X1DayLaborer:
		return "除外① 日雇特例"
	case X2AlreadyIssued:
		return "除外② 交付済み"
	case X3ContinuationEnding:
		return "除外③ 任継喪失予定"
	case X4DV:
		return "除外④ DV登録"
	case RLostAfterExtraction:
		return "抽出後喪失"
	}
	return string(c)
}

// Valid reports whether c is one of the known codes.
func (c ReasonCode) Valid() bool {
	for _, k := range ReasonCodes {
		if c == k {
			return true
		}
	}
	return false
}

// Rules holds the dates that decide who is a target.
type Rules struct {
	DataAsOf               time.Time
	ExtractedOn            time.Time
	CardDecisionCutoff     time.Time
	MynaReferenceDate      time.Time
	ContinuationLossCutoff time.Time
}

// Decide gives every member of the household its decision, into out
// (which must have room for len(h.Members)). The checks run in the order
// of rules.md §1; the first that fails gives the reason code.
func (r Rules) Decide(h *Household, out []ReasonCode) {
	insured := h.Insured()
	insuredInactive := r.inactive(insured)
	for i := range h.Members {
		m := &h.Members[i]
		out[i] = r.decide(m, insured, insuredInactive)
	}
}

func (r Rules) inactive(m *Member) bool {
	return !m.LostOn.IsZero() && !m.LostOn.After(r.DataAsOf)
}

func (r Rules) decide(m, insured *Member, insuredInactive bool) ReasonCode {
	switch {
	case insuredInactive || r.inactive(m):
		return NInactive
	case m.DecidedOn.IsZero() || m.DecidedOn.After(r.CardDecisionCutoff):
		return NNoCard
	case r.mynaUsable(m):
		return NMynaUsable
	case insured.InsuredType == DayLaborer:
		return X1DayLaborer
	case !m.CertificateIssuedOn.IsZero() && !m.CertificateIssuedOn.After(r.ExtractedOn):
		return X2AlreadyIssued
	case insured.InsuredType == Voluntary && !insured.ScheduledLossOn.IsZero() &&
		!insured.ScheduledLossOn.After(r.ContinuationLossCutoff):
		return X3ContinuationEnding
	case m.DV:
		return X4DV
	}
	return Target
}

// mynaUsable: the member can use マイナ保険証 on the reference date. An
// electronic certificate is valid through its expiry day.
func (r Rules) mynaUsable(m *Member) bool {
	return m.MynumberOnFile &&
		!m.MynaLinkedOn.IsZero() && !m.MynaLinkedOn.After(r.MynaReferenceDate) &&
		(m.EcertExpiresOn.IsZero() || !m.EcertExpiresOn.Before(r.MynaReferenceDate))
}
