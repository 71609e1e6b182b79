package csvin

import (
	"errors"
	"io"
	"iter"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"shikaku"
	"shikaku/wareki"
)

// The members.csv schema of data.md, in its order.
const (
	mBranchCode = iota
	mSymbol
	mNumber
	mBranchNo
	mRelationship
	mInsuredType
	mName
	mNameKana
	mBirthDate
	mSex
	mAcquiredOn
	mDecidedOn
	mLostOn
	mScheduledLossOn
	mEmployerCode
	mPostalCode
	mAddress
	mAddressLine2
	mMynumberOnFile
	mMynaLinkedOn
	mEcertExpiresOn
	mDV
	mCertificateIssuedOn
	mCopayRate
	mLanguage
)

var memberSchema = []column{
	{"branch_code", "支部コード", true},
	{"symbol", "記号", true},
	{"number", "番号", true},
	{"branch_no", "枝番", true},
	{"relationship", "続柄", true},
	{"insured_type", "被保険者種別", true},
	{"name", "氏名", true},
	{"name_kana", "氏名カナ", true},
	{"birth_date", "生年月日", true},
	{"sex", "性別", true},
	{"acquired_on", "資格取得日", true},
	{"decided_on", "決定日", false},
	{"lost_on", "資格喪失日", false},
	{"scheduled_loss_on", "資格喪失予定日", false},
	{"employer_code", "事業所記号", false},
	{"postal_code", "郵便番号", false},
	{"address", "住所", false},
	{"address_line2", "方書", false},
	{"mynumber_on_file", "マイナンバー収録", true},
	{"myna_linked_on", "保険証利用登録日", false},
	{"ecert_expires_on", "電子証明書有効期限", false},
	{"dv", "DV登録", true},
	{"certificate_issued_on", "資格確認書交付日", false},
	{"copay_rate", "一部負担金割合", false},
	{"language", "言語", false},
}

// MemberHeader is the members.csv header with English keys, in schema order.
func MemberHeader() []string {
	h := make([]string, len(memberSchema))
	for i, c := range memberSchema {
		h[i] = c.key
	}
	return h
}

var (
	relationships = map[string]shikaku.Relationship{
		"self": shikaku.Self, "本人": shikaku.Self,
		"spouse": shikaku.Spouse, "配偶者": shikaku.Spouse,
		"child": shikaku.Child, "子": shikaku.Child,
		"parent": shikaku.Parent, "父母": shikaku.Parent,
		"other": shikaku.Other, "その他": shikaku.Other,
	}
	insuredTypes = map[string]shikaku.InsuredType{
		"general": shikaku.General, "一般": shikaku.General,
		"voluntary": shikaku.Voluntary, "任意継続": shikaku.Voluntary,
		"day_laborer": shikaku.DayLaborer, "日雇特例": shikaku.DayLaborer,
	}
)

// household is what the reader remembers of a household to check it.
type household struct {
	typ       shikaku.InsuredType
	typLine   int32
	firstLine int32 // first row seen, for the "no 00 row" message
	insured   bool  // has a 00 row
}

// ErrNotSorted is returned by Members with Options.AssumeSorted when a row
// comes out of key order; read the file again without AssumeSorted.
var ErrNotSorted = errors.New("加入者ファイルがキー順に並んでいません")

// Members reads members.csv. It yields each valid member (the *Member is
// reused: copy what you keep) and, at the end, an *InputError if the file
// had any problem; a caller that stores rows must then roll back.
// employerKnown tells whether an employer code exists.
//
// The checks across rows (duplicate keys, households) need memory for
// every key when rows come in any order. Core systems export sorted by
// key; with Options.AssumeSorted the reader checks each row against the
// previous one only, in constant memory, and gives up with ErrNotSorted at
// the first row out of order.
func Members(r io.Reader, opt Options, employerKnown func(string) bool) iter.Seq2[*shikaku.Member, error] {
	return func(yield func(*shikaku.Member, error) bool) {
		t, err := open(r, opt, memberSchema)
		if err != nil {
			yield(nil, err)
			return
		}
		check := t.unsortedCheck()
		if opt.AssumeSorted {
			check = t.sortedCheck()
		}
		var m shikaku.Member
		for {
			rec := t.next()
			if rec == nil {
				break
			}
			before := t.prob.n
			t.member(rec, &m, employerKnown)
			if t.prob.n > before {
				continue
			}
			ok, err := check.row(&m)
			if err != nil {
				yield(nil, err)
				return
			}
			if ok && t.prob.n == 0 && !yield(&m, nil) {
				return
			}
		}
		check.end()
		if err := t.prob.err(); err != nil {
			yield(nil, err)
		}
	}
}

// crossCheck checks rows against each other.
type crossCheck struct {
	row func(m *shikaku.Member) (bool, error) // false: the row had a problem
	end func()
}

func (t *table) noInsured(line int32, hk string) {
	t.prob.add(int(line), t.header(mBranchNo, memberSchema), hk, "この被扶養者の世帯に被保険者（枝番 00）の行がありません")
}

func (t *table) mixedType(m *shikaku.Member, h *household) {
	t.prob.add(t.line, t.header(mInsuredType, memberSchema), string(m.InsuredType),
		"同じ世帯の中で被保険者種別が一致しません（%d行目は %s）", h.typLine, h.typ)
}

func (t *table) duplicate(m *shikaku.Member, first int32) {
	t.prob.add(t.line, t.header(mBranchNo, memberSchema), m.Key.String(), "加入者キーが重複しています（%d行目と同じ）", first)
}

// unsortedCheck remembers every key and household, compactly.
func (t *table) unsortedCheck() crossCheck {
	keys := make(map[packedKey]int32, 1<<16)
	households := make(map[packedHousehold]household, 1<<14)
	return crossCheck{
		row: func(m *shikaku.Member) (bool, error) {
			pk, hk := pack(m.Key)
			if first, dup := keys[pk]; dup {
				t.duplicate(m, first)
				return false, nil
			}
			keys[pk] = int32(t.line)
			h, seen := households[hk]
			if !seen {
				h = household{typ: m.InsuredType, typLine: int32(t.line), firstLine: int32(t.line)}
			} else if h.typ != m.InsuredType {
				t.mixedType(m, &h)
				return false, nil
			}
			h.insured = h.insured || m.Key.Insured()
			households[hk] = h
			return true, nil
		},
		end: func() {
			for hk, h := range households {
				if !h.insured {
					t.noInsured(h.firstLine, hk.String())
				}
			}
		},
	}
}

// sortedCheck compares each row with the one before.
func (t *table) sortedCheck() crossCheck {
	var prev shikaku.MemberKey
	var prevLine int32
	var h household
	started := false
	closeHousehold := func() {
		if started && !h.insured {
			t.noInsured(h.firstLine, prev.HouseholdKey.String())
		}
	}
	return crossCheck{
		row: func(m *shikaku.Member) (bool, error) {
			k := m.Key
			sameHousehold := started && k.HouseholdKey == prev.HouseholdKey
			switch {
			case sameHousehold && k.BranchNo == prev.BranchNo:
				t.duplicate(m, prevLine)
				return false, nil
			case started && (k.HouseholdKey.Less(prev.HouseholdKey) || sameHousehold && k.BranchNo < prev.BranchNo):
				return false, ErrNotSorted
			}
			if !sameHousehold {
				closeHousehold()
				h = household{typ: m.InsuredType, typLine: int32(t.line), firstLine: int32(t.line)}
			} else if h.typ != m.InsuredType {
				t.mixedType(m, &h)
				return false, nil
			}
			h.insured = h.insured || k.Insured()
			prev, prevLine, started = k, int32(t.line), true
			return true, nil
		},
		end: closeHousehold,
	}
}

// member parses one record into m, reporting problems.
func (t *table) member(rec []string, m *shikaku.Member, employerKnown func(string) bool) {
	s := memberSchema
	col := func(i int) string { return t.header(i, s) }
	bad := func(i int, v, format string, args ...any) { t.prob.add(t.line, col(i), v, format, args...) }
	code := func(i, min, max int) string {
		v := wareki.Normalize(t.get(rec, i))
		if v == "" {
			bad(i, v, "必須です")
		} else if !isDigits(v, min, max) {
			if min == max {
				bad(i, v, "%d桁の数字にしてください", min)
			} else {
				bad(i, v, "%d〜%d桁の数字にしてください", min, max)
			}
		}
		return v
	}
	date := func(i int, required bool) time.Time {
		v := t.get(rec, i)
		if v == "" {
			if required {
				bad(i, v, "必須です")
			}
			return time.Time{}
		}
		d, err := wareki.Parse(v)
		if err != nil {
			bad(i, v, "日付として読めません（例: 2025-05-16、R7.5.16、令和7年5月16日）")
		}
		return d
	}
	flag := func(i int) bool {
		v := wareki.Normalize(t.get(rec, i))
		switch strings.ToLower(v) {
		case "1", "true", "有":
			return true
		case "0", "false", "無":
			return false
		case "":
			bad(i, v, "必須です（1/0、true/false、有/無）")
		default:
			bad(i, v, "1/0、true/false、有/無 のいずれかにしてください")
		}
		return false
	}

	*m = shikaku.Member{}
	m.Key.Branch = code(mBranchCode, 2, 2)
	if isDigits(m.Key.Branch, 2, 2) && !shikaku.ValidBranchCode(m.Key.Branch) {
		bad(mBranchCode, m.Key.Branch, "支部コードは 01〜47 です")
	}
	m.Key.Symbol = code(mSymbol, 1, 8)
	m.Key.Number = code(mNumber, 1, 8)
	m.Key.BranchNo = code(mBranchNo, 2, 2)

	v := t.get(rec, mRelationship)
	if rel, ok := relationships[strings.ToLower(v)]; ok {
		m.Relationship = rel
		if rel == shikaku.Self && !m.Key.Insured() {
			bad(mRelationship, v, "本人（self）は枝番 00 の行だけです")
		}
		if rel != shikaku.Self && m.Key.Insured() {
			bad(mRelationship, v, "枝番 00（被保険者）の続柄は本人（self）にしてください")
		}
	} else {
		bad(mRelationship, v, "本人/配偶者/子/父母/その他（self/spouse/child/parent/other）のいずれかにしてください")
	}
	v = t.get(rec, mInsuredType)
	if typ, ok := insuredTypes[strings.ToLower(v)]; ok {
		m.InsuredType = typ
	} else {
		bad(mInsuredType, v, "一般/任意継続/日雇特例（general/voluntary/day_laborer）のいずれかにしてください")
	}
	m.Name = t.get(rec, mName)
	if m.Name == "" {
		bad(mName, "", "必須です")
	}
	raw := t.get(rec, mNameKana)
	m.NameKana = Katakana(raw)
	if raw == "" {
		bad(mNameKana, "", "必須です")
	} else if !isKatakana(m.NameKana) {
		bad(mNameKana, raw, "カタカナにしてください")
	}
	m.BirthDate = date(mBirthDate, true)
	switch v := wareki.Normalize(t.get(rec, mSex)); v {
	case "1", "男":
		m.Sex = 1
	case "2", "女":
		m.Sex = 2
	default:
		bad(mSex, v, "1/男 または 2/女 にしてください")
	}
	m.AcquiredOn = date(mAcquiredOn, true)
	m.DecidedOn = date(mDecidedOn, false)
	m.LostOn = date(mLostOn, false)
	m.ScheduledLossOn = date(mScheduledLossOn, false)
	if !m.LostOn.IsZero() && !m.AcquiredOn.IsZero() && m.LostOn.Before(m.AcquiredOn) {
		bad(mLostOn, t.get(rec, mLostOn), "資格喪失日が資格取得日（%s）より前です", wareki.Format(m.AcquiredOn))
	}
	if !m.BirthDate.IsZero() && !m.AcquiredOn.IsZero() && m.AcquiredOn.Before(m.BirthDate) {
		bad(mAcquiredOn, t.get(rec, mAcquiredOn), "資格取得日が生年月日（%s）より前です", wareki.Format(m.BirthDate))
	}
	m.EmployerCode = wareki.Normalize(t.get(rec, mEmployerCode))
	if m.Key.Insured() && m.InsuredType == shikaku.General {
		switch {
		case m.EmployerCode == "":
			bad(mEmployerCode, "", "一般の被保険者には事業所記号が必要です")
		case employerKnown != nil && !employerKnown(m.EmployerCode):
			bad(mEmployerCode, m.EmployerCode, "事業所ファイルにない事業所記号です（先に import employers で事業所を取り込んでください）")
		}
	}
	m.PostalCode = strings.ReplaceAll(wareki.Normalize(t.get(rec, mPostalCode)), "-", "")
	m.Address = t.get(rec, mAddress)
	m.AddressLine2 = t.get(rec, mAddressLine2)
	if m.PostalCode != "" && !isDigits(m.PostalCode, 7, 7) {
		bad(mPostalCode, t.get(rec, mPostalCode), "郵便番号は7桁の数字にしてください（ハイフンは省略可）")
	}
	if m.Key.Insured() {
		if m.PostalCode == "" {
			bad(mPostalCode, "", "被保険者（枝番 00）の行には郵便番号が必要です")
		}
		if m.Address == "" {
			bad(mAddress, "", "被保険者（枝番 00）の行には住所が必要です")
		}
	}
	m.MynumberOnFile = flag(mMynumberOnFile)
	m.MynaLinkedOn = date(mMynaLinkedOn, false)
	m.EcertExpiresOn = date(mEcertExpiresOn, false)
	m.DV = flag(mDV)
	m.CertificateIssuedOn = date(mCertificateIssuedOn, false)
	switch v := wareki.Normalize(t.get(rec, mCopayRate)); v {
	case "":
	case "2", "3":
		m.CopayRate = int(v[0] - '0')
	default:
		bad(mCopayRate, v, "一部負担金割合は 2 または 3 にしてください（空欄可）")
	}
	m.Language = strings.ToLower(t.get(rec, mLanguage))
	if m.Language == "" {
		m.Language = shikaku.DefaultLanguage
	} else if !isLanguage(m.Language) {
		bad(mLanguage, m.Language, "言語は ja、en、zh、ko、vi、pt などの言語コードにしてください")
	}
}

// Katakana widens half-width katakana (ｶﾞ → ガ) and normalizes spaces.
func Katakana(s string) string {
	s = trimSpace(s)
	if wideKatakana(s) {
		return s // as most files give it: spared two transforms (1 M members: 1.1 s of CPU)
	}
	return norm.NFC.String(width.Widen.String(s))
}

// wideKatakana reports whether s holds only full-width katakana, the
// long vowel mark, the middle dot and the ideographic space: characters
// that widening and NFC leave as they are. (Not ヷ–ヺ, which compose
// from a voicing mark, nor the ASCII space, which widening changes.)
func wideKatakana(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'ァ' && r <= 'ヶ', r == 'ー', r == '・', r == '\u3000':
		default:
			return false
		}
	}
	return true
}

func isKatakana(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'ァ' && r <= 'ヺ', r == 'ー', r == '・', r == '\u3000', r == ' ':
		default:
			return false
		}
	}
	return true
}

func isLanguage(s string) bool {
	if len(s) < 2 || len(s) > 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !(c == '-' && i >= 2) {
			return false
		}
	}
	return true
}

func isDigits(s string, min, max int) bool {
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

// packedKey is a member key in 16 bytes, so that the duplicate check of
// a file of millions of rows stays small.
type packedKey struct {
	hh  uint64
	aux uint16
}

// packedHousehold is a household key in the same form.
type packedHousehold packedKey

func (h packedHousehold) String() string {
	sl, nl := int(h.aux>>4&0xf), int(h.aux&0xf)
	br := h.hh >> 54
	sym := h.hh >> 27 & (1<<27 - 1)
	num := h.hh & (1<<27 - 1)
	return pad(br, 2) + "-" + pad(sym, sl) + "-" + pad(num, nl)
}

func pad(n uint64, w int) string {
	s := make([]byte, w)
	for i := w - 1; i >= 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}

// pack encodes a validated key: digits only, symbol and number of 1–8
// digits (their lengths are kept so 0123 and 123 stay apart).
func pack(k shikaku.MemberKey) (packedKey, packedHousehold) {
	atoi := func(s string) uint64 {
		var n uint64
		for i := 0; i < len(s); i++ {
			n = n*10 + uint64(s[i]-'0')
		}
		return n
	}
	hh := atoi(k.Branch)<<54 | atoi(k.Symbol)<<27 | atoi(k.Number)
	lens := uint16(len(k.Symbol))<<4 | uint16(len(k.Number))
	return packedKey{hh, lens | uint16(atoi(k.BranchNo))<<8}, packedHousehold{hh, lens}
}
