package shikaku

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// Store is what the campaign needs from a database. Every method that
// writes runs in one transaction: it either completes or changes nothing,
// so a crash at any point leaves the database consistent and a rerun
// finishes the job. Implementations: sqlite (embedded default) and, later,
// postgres.
type Store interface {
	Close() error

	// ImportMembers replaces the members of every branch present in rows,
	// all or nothing. It refuses (ErrCampaignExtracted) a branch whose
	// campaign has been extracted. It returns the rows per branch.
	ImportMembers(ctx context.Context, rows iter.Seq2[*Member, error]) (map[string]int, error)
	// ImportEmployers adds or updates employers, all or nothing.
	ImportEmployers(ctx context.Context, rows iter.Seq2[*Employer, error]) (int, error)
	// EmployerCodes lists the known employer codes.
	EmployerCodes(ctx context.Context) (map[string]bool, error)
	// MemberCount is the number of members of a branch.
	MemberCount(ctx context.Context, branch string) (int, error)

	// Branches lists the branches with a campaign.
	Branches(ctx context.Context) ([]string, error)
	// Campaign loads the campaign of a branch (ErrNotFound if none).
	Campaign(ctx context.Context, branch string) (*Campaign, error)
	// Steps lists the steps done for a branch, in order.
	Steps(ctx context.Context, branch string) ([]Step, error)

	// Extract saves the campaign and gives every member of its branch a
	// decision, household by household, with decide. Refused after pack.
	Extract(ctx context.Context, c *Campaign, settings string, decide func(*Household, []ReasonCode)) (map[ReasonCode]int, error)
	// CrossMatch records a loss file and, before packing, removes the
	// targets for which removes is true (R_LOST_AFTER_EXTRACTION). A loss
	// only ever removes members of its own household, so removes is asked
	// about the targets of the households in losses.
	CrossMatch(ctx context.Context, branch string, file string, losses []Loss, removes func(MemberKey) bool) (CrossMatchResult, error)
	// Pack runs fn in one transaction with access to the targets in print
	// order and a place to save envelopes. Refused when already packed.
	Pack(ctx context.Context, branch string, fn func(PackTx) (PackResult, error)) (PackResult, error)

	// Reads for export, each in its order of interface.md.
	Decisions(ctx context.Context, branch string) iter.Seq2[DecisionRow, error]
	EnvelopeLines(ctx context.Context, branch string) iter.Seq2[EnvelopeLine, error]
	EmployerLines(ctx context.Context, branch string) iter.Seq2[EmployerLine, error]
	// Mailings yields the envelopes of the bulk mailing in print order,
	// each with what its cover sheet and cards print.
	Mailings(ctx context.Context, branch string) iter.Seq2[*Mailing, error]
	UnmatchedLosses(ctx context.Context, branch string) ([]Loss, error)
	Summary(ctx context.Context, branch string) (*Summary, error)
	// DVLeaks counts DV-registered members found in the bulk mailing
	// (certificates, envelope addressees). Must be zero. (A reissue the
	// member asked for, to an address of their choosing, is not a leak.)
	DVLeaks(ctx context.Context, branch string) (int, error)

	// Lifecycle runs fn in one transaction holding the branch: the steps
	// after sending (rules §5), lookups and the campaign status.
	Lifecycle(ctx context.Context, branch string, fn func(LifeTx) error) error
}

// ImportExtractor is a Store that can decide a campaign's members while it
// imports them, so that extract need not read every member back: run
// imports and extracts one after the other on a fresh database.
type ImportExtractor interface {
	// ImportAndExtract is ImportMembers followed by Extract of c's branch,
	// in one transaction, with the same results. It decides while
	// importing only when the rows of c's branch come in key order (each
	// household together); otherwise it imports alone and returns nil
	// decisions, and Extract is still to run.
	ImportAndExtract(ctx context.Context, rows iter.Seq2[*Member, error], c *Campaign, settings string, decide func(*Household, []ReasonCode)) (members map[string]int, decisions map[ReasonCode]int, err error)
}

// PackTx is the view of the database that packing works through.
type PackTx interface {
	// Counters are where the tracking numbers and IDs of the branch stand.
	Counters(ctx context.Context) (Counters, error)
	// TargetCounts yields the number of targets of each household that has any.
	TargetCounts(ctx context.Context) iter.Seq2[int, error]
	// Households yields each household with targets, in print order
	// (postal code, address, household key), with its targets in
	// branch-number order. It is read while TargetCounts is, so the two
	// must not share a connection.
	Households(ctx context.Context) iter.Seq2[*PackHousehold, error]
	// SaveEnvelopes stores envelopes with their certificates. It is called
	// from a goroutine of its own, one call at a time, while Households is
	// still read; the last call has returned before SaveCounters is
	// called.
	SaveEnvelopes(ctx context.Context, envs []Envelope) error
	// SaveCounters stores where the counters stand after packing.
	SaveCounters(ctx context.Context, c Counters) error
}

// PackHousehold is a household as packing sees it.
type PackHousehold struct {
	Insured Member
	Targets []*Member
}

// Names of the counters a store keeps per branch.
const (
	CounterTracking    = "tracking_used"
	CounterEnvelope    = "next_envelope"
	CounterCertificate = "next_certificate"
)

// Counters are a branch's persisted sequences.
type Counters struct {
	TrackingUsed uint64 // positions of the tracking ranges used
	NextEnvelope int64
	NextCert     int64
}

// Step is one step of the campaign's schedule that has been done.
type Step struct {
	Name   string
	DoneAt time.Time
	Detail string // JSON counts
}

// Step names, as status shows them.
const (
	StepImport     = "import"
	StepExtract    = "extract"
	StepCrossMatch = "crossmatch"
	StepPack       = "pack"
	StepExport     = "export"
)

// CrossMatchResult is what a cross-match found.
type CrossMatchResult struct {
	Rows      int         // loss rows read
	Effective int         // rows with lost_on <= loss_data_as_of
	Later     int         // rows with a later lost_on, not applied
	Removed   int         // targets removed (R_LOST_AFTER_EXTRACTION)
	Unknown   []MemberKey // keys that are not members of the branch
	Recorded  bool        // after packing: recorded only, no decision changed
}

// PackResult is what packing made.
type PackResult struct {
	Households   int
	Envelopes    int
	Certificates int
}

// DecisionRow is one row of decisions.csv.
type DecisionRow struct {
	Key      MemberKey
	Decision ReasonCode
}

// EnvelopeLine is one certificate in its envelope, a row of envelopes.csv.
type EnvelopeLine struct {
	EnvelopeID     string
	TrackingNumber TrackingNumber
	SendOn         time.Time
	K, N           int
	PostalCode     string
	Member         MemberKey
	CertificateID  string
	ValidUntil     time.Time
	// The envelope's send wave, its number of certificates, its flyer
	// language and its household's employer ("" for a voluntary
	// household): what the summary counts, read with the lines.
	Wave, Size   int
	Language     string
	EmployerCode string
}

// MailCount counts the bulk mailing into a Summary from its envelope
// lines, as EnvelopeLines yields them (an envelope's lines one after
// another): the export writes envelopes.csv and counts summary.json from
// the same rows, which then cannot disagree, and no second read of the
// envelopes is needed.
type MailCount struct {
	sum       *Summary
	last      string
	employers map[string]struct{}
}

// NewMailCount counts into sum, whose mail counts it leaves to Add and
// Done.
func NewMailCount(sum *Summary) *MailCount {
	return &MailCount{sum: sum, employers: map[string]struct{}{}}
}

// Add counts line's envelope at its first line.
func (m *MailCount) Add(l *EnvelopeLine) {
	if l.EnvelopeID == m.last {
		return
	}
	m.last = l.EnvelopeID
	m.sum.AddEnvelopes(l.Wave, l.Size, l.Language, 1)
	if l.EmployerCode != "" {
		m.employers[l.EmployerCode] = struct{}{}
	}
}

// Done sets the count of employers, those of the envelopes added.
func (m *MailCount) Done() { m.sum.Employers = len(m.employers) }

// EmployerLine is one row of an employer's 対象者一覧表, with the
// employer it is addressed to.
type EmployerLine struct {
	EmployerCode string
	Employer     Employer
	Member       MemberKey
	Name         string
	NameKana     string
	Relationship Relationship
	SendOn       time.Time
}

// Summary is the counts of a campaign, as summary.json carries them.
type Summary struct {
	Members         int                `json:"members"`
	Decisions       map[ReasonCode]int `json:"decisions"`
	Certificates    int                `json:"certificates"`
	Envelopes       int                `json:"envelopes"`
	EnvelopesBySize map[int]int        `json:"envelopes_by_size"`
	Waves           []WaveSummary      `json:"envelopes_per_wave"`
	Employers       int                `json:"employers"`
	// EnvelopesByLanguage counts envelopes per flyer language (説明用
	// チラシ): the addressee's language.
	EnvelopesByLanguage map[string]int `json:"envelopes_by_language"`
}

// NewSummary is an empty summary of a campaign: every decision code and
// every envelope size present, at zero.
func NewSummary(c *Campaign) *Summary {
	sum := &Summary{Decisions: map[ReasonCode]int{}, EnvelopesBySize: map[int]int{}, EnvelopesByLanguage: map[string]int{}}
	for _, code := range ReasonCodes {
		sum.Decisions[code] = 0
	}
	for i := 1; i <= max(c.Mail.PerEnvelope, 1); i++ {
		sum.EnvelopesBySize[i] = 0
	}
	for i, w := range c.Waves {
		sum.Waves = append(sum.Waves, WaveSummary{Wave: i + 1, SendOn: w.SendOn})
	}
	return sum
}

// DefaultLanguage is the language of a member whose file gives none.
const DefaultLanguage = "ja"

// AddEnvelopes counts n bulk envelopes of one wave, each holding size
// certificates and the flyer in language. A store reads its envelopes
// once, grouped by the three, and adds every group.
func (s *Summary) AddEnvelopes(wave, size int, language string, n int) {
	s.EnvelopesByLanguage[language] += n
	s.EnvelopesBySize[size] += n
	s.Envelopes += n
	s.Certificates += size * n
	if wave >= 1 && wave <= len(s.Waves) {
		s.Waves[wave-1].Envelopes += n
		s.Waves[wave-1].Certificates += size * n
	}
}

// WaveSummary is the envelopes and certificates of one send.
type WaveSummary struct {
	Wave         int       `json:"wave"`
	SendOn       time.Time `json:"-"`
	Envelopes    int       `json:"envelopes"`
	Certificates int       `json:"certificates"`
}

// Refusals every store gives, in the words operators read. Each wraps
// one of the errors below, for errors.Is.
func ReimportRefused(branch string) error {
	return fmt.Errorf("支部 %s: %w。加入者データは抽出時点のスナップショットのため、抽出後は取り込み直せません（やり直す場合は新しいデータベースで始めてください）", branch, ErrCampaignExtracted)
}

// ReextractRefused: extract after pack.
func ReextractRefused(branch string) error {
	return fmt.Errorf("支部 %s: %w。封筒とお問い合わせ番号が確定しているため、抽出はやり直せません", branch, ErrAlreadyPacked)
}

// RepackRefused: pack twice.
func RepackRefused(branch string) error {
	return fmt.Errorf("支部 %s: %w。お問い合わせ番号は二度使えないため、封入はやり直しません", branch, ErrAlreadyPacked)
}

// NotExtractedYet: a step that needs the decisions.
func NotExtractedYet(branch string) error {
	return fmt.Errorf("支部 %s: %w。先に extract を実行してください", branch, ErrNotExtracted)
}

// CampaignMissing: no campaign for the branch.
func CampaignMissing(branch string) error {
	return fmt.Errorf("支部 %s のキャンペーン: %w（先に extract --campaign で設定を登録してください）", branch, ErrNotFound)
}

// Step is the name under which a cross-match is recorded: after packing
// it changed no decision and is recorded apart.
func (r CrossMatchResult) Step() string {
	if r.Recorded {
		return StepCrossMatch + "_after_pack"
	}
	return StepCrossMatch
}

// Detail is the JSON recorded with the step; removedTotal counts every
// R_LOST_AFTER_EXTRACTION of the branch so far.
func (r CrossMatchResult) Detail(removedTotal int) []byte {
	b, _ := json.Marshal(map[string]any{"rows": r.Rows, "removed": r.Removed, "removed_total": removedTotal,
		"unknown": len(r.Unknown), "recorded_only": r.Recorded})
	return b
}

// Errors the stores return for the operator to act on.
var (
	ErrCampaignExtracted = errors.New("対象者抽出（extract）が済んでいます")
	ErrAlreadyPacked     = errors.New("封入（pack）が済んでいます")
	ErrNotExtracted      = errors.New("対象者抽出（extract）がまだです")
)
