// Package shikaku is the domain of the bulk issuance of 資格確認書
// (eligibility confirmation certificates): members and households, the
// decision rules, the cross-match with loss data, certificates, envelopes,
// tracking numbers and send waves. It does no I/O: storage, file formats and
// rendering live in their own packages and call into this one.
package shikaku

import (
	"fmt"
	"strings"
	"time"
)

// InsuredType is the kind of insured person (被保険者種別). Dependents carry
// the type of their insured person.
type InsuredType string

const (
	General    InsuredType = "general"     // 一般
	Voluntary  InsuredType = "voluntary"   // 任意継続
	DayLaborer InsuredType = "day_laborer" // 日雇特例
)

// Relationship is 続柄, the member's relation to the insured person.
type Relationship string

const (
	Self   Relationship = "self"   // 本人
	Spouse Relationship = "spouse" // 配偶者
	Child  Relationship = "child"  // 子
	Parent Relationship = "parent" // 父母
	Other  Relationship = "other"  // その他
)

// Label is the Japanese word printed for the relationship.
func (r Relationship) Label() string {
	switch r {
	case Self:
		return "本人"
	case Spouse:
		return "配偶者"
	case Child:
		return "子"
	case Parent:
		return "父母"
	case Other:
		return "その他"
	}
	return string(r)
}

// InsuredBranchNo is the branch number (枝番) of the insured person.
const InsuredBranchNo = "00"

// HouseholdKey identifies a household (世帯): one insured person's
// 支部コード, 記号 and 番号.
type HouseholdKey struct {
	Branch string // 支部コード, 01–47
	Symbol string // 記号
	Number string // 番号
}

// Less orders keys as the stores and exports do: by text of each part.
func (k HouseholdKey) Less(o HouseholdKey) bool {
	if k.Branch != o.Branch {
		return k.Branch < o.Branch
	}
	if k.Symbol != o.Symbol {
		return k.Symbol < o.Symbol
	}
	return k.Number < o.Number
}

func (k HouseholdKey) String() string { return k.Branch + "-" + k.Symbol + "-" + k.Number }

// MemberKey identifies a member: the household key and the branch number.
type MemberKey struct {
	HouseholdKey
	BranchNo string // 枝番: 00 insured person, 01… dependents
}

// String is the key as operators write it: 46-12345678-1234-01.
func (k MemberKey) String() string { return k.HouseholdKey.String() + "-" + k.BranchNo }

// Less orders member keys as the stores do: household, then branch number.
func (k MemberKey) Less(o MemberKey) bool {
	if k.HouseholdKey != o.HouseholdKey {
		return k.HouseholdKey.Less(o.HouseholdKey)
	}
	return k.BranchNo < o.BranchNo
}

// Insured reports whether the key is the insured person's (branch number 00).
func (k MemberKey) Insured() bool { return k.BranchNo == InsuredBranchNo }

// ParseMemberKey reads a key written as 46-12345678-1234-01.
func ParseMemberKey(s string) (MemberKey, error) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 4 || !digits(parts[0], 2, 2) || !digits(parts[1], 1, 8) || !digits(parts[2], 1, 8) || !digits(parts[3], 2, 2) {
		return MemberKey{}, fmt.Errorf("加入者キー %q は「支部コード-記号-番号-枝番」(例: 46-12345678-1234-01) の形式ではありません", s)
	}
	return MemberKey{HouseholdKey{parts[0], parts[1], parts[2]}, parts[3]}, nil
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Member is one insured person or dependent (加入者) as read from the
// member file. Zero dates are "not set".
type Member struct {
	ID                  int64 // storage identity; 0 until stored
	Key                 MemberKey
	Relationship        Relationship
	InsuredType         InsuredType
	Name                string // 氏名
	NameKana            string // 氏名カナ, full-width katakana
	BirthDate           time.Time
	Sex                 int // 1 男, 2 女
	AcquiredOn          time.Time
	DecidedOn           time.Time // empty: no 健康保険証 was issued
	LostOn              time.Time // first day without eligibility
	ScheduledLossOn     time.Time // voluntary insured persons: end of the term
	EmployerCode        string
	PostalCode          string // 7 digits, no hyphen (insured person's row)
	Address             string
	AddressLine2        string // 方書
	MynumberOnFile      bool   // the insurer holds an individual number; never the number
	MynaLinkedOn        time.Time
	EcertExpiresOn      time.Time
	DV                  bool
	CertificateIssuedOn time.Time
	CopayRate           int    // 0 not set, 2 or 3
	Language            string // flyer language, DefaultLanguage unless the file says otherwise
}

// Household is an insured person with the dependents of the same key,
// ordered by branch number; Members[0] is the insured person.
type Household struct {
	Members []Member
}

// Insured is the insured person of the household.
func (h *Household) Insured() *Member { return &h.Members[0] }

// Key is the household's key.
func (h *Household) Key() HouseholdKey { return h.Members[0].Key.HouseholdKey }

// Employer is a 事業所.
type Employer struct {
	Code         string
	Name         string
	PostalCode   string
	Address      string
	AddressLine2 string
	Contact      string    // 担当者; empty prints as ご担当者様
	ClosedOn     time.Time // 全喪年月日
}

// Loss is one row of the loss data (資格喪失者データ). A loss of the
// insured person (branch number 00) is the loss of the whole household.
type Loss struct {
	Key    MemberKey
	LostOn time.Time
	Reason string
}
