package postgres

import (
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"shikaku"
)

// Extract saves the campaign and decides every member of its branch, in
// one transaction: members stream from a snapshot on a second connection,
// decisions go back with COPY.
func (s *Store) Extract(ctx context.Context, c *shikaku.Campaign, settings string, decide func(*shikaku.Household, []shikaku.ReasonCode)) (map[shikaku.ReasonCode]int, error) {
	counts := map[shikaku.ReasonCode]int{}
	branch := c.BranchCode
	err := s.tx(ctx, branch, func(tx pgx.Tx) error {
		deferred, err := beginExtract(ctx, tx, c, settings)
		if err != nil {
			return err
		}
		rtx, err := s.snapshot(ctx)
		if err != nil {
			return err
		}
		defer rtx.Rollback(context.WithoutCancel(ctx))
		members := background(ctx, rtx, `SELECT id, symbol, number, branch_no, insured_type, lost_on, decided_on,
			mynumber_on_file, myna_linked_on, ecert_expires_on, certificate_issued_on, scheduled_loss_on, dv
			FROM members WHERE branch_code = $1 ORDER BY symbol, number, branch_no`, []any{branch},
			func(r pgx.Rows, m *shikaku.Member) error {
				var typ string
				var lost, decided, linked, ecert, issued, sched pgtype.Date
				if err := r.Scan(&m.ID, &m.Key.Symbol, &m.Key.Number, &m.Key.BranchNo, &typ, &lost, &decided,
					&m.MynumberOnFile, &linked, &ecert, &issued, &sched, &m.DV); err != nil {
					return err
				}
				m.Key.Branch = branch
				m.InsuredType = shikaku.InsuredType(typ)
				m.LostOn, m.DecidedOn = date(lost), date(decided)
				m.MynaLinkedOn, m.EcertExpiresOn = date(linked), date(ecert)
				m.CertificateIssuedOn, m.ScheduledLossOn = date(issued), date(sched)
				return nil
			})
		households, stop := iter.Pull2(shikaku.GroupHouseholds(members))
		defer stop()
		var out []shikaku.ReasonCode
		// Each call writes the decisions of one household.
		decisions := func(e *copyEncoder) (bool, error) {
			h, err, ok := households()
			if !ok || err != nil {
				return false, err
			}
			out = append(out[:0], make([]shikaku.ReasonCode, len(h.Members))...)
			decide(h, out)
			insured := h.Insured().ID
			for i, code := range out {
				counts[code]++
				e.row(len(decisionColumns))
				e.int64(h.Members[i].ID)
				e.text(branch)
				e.text(string(code))
				e.int64(insured)
			}
			return true, nil
		}
		if _, err := copyRows(ctx, tx, "decisions", decisionColumns, decisions); err != nil {
			return err
		}
		return endExtract(ctx, tx, branch, counts, deferred)
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

var decisionColumns = []string{"member_id", "branch_code", "decision", "insured_id"}

// beginExtract refuses a branch already packed, saves its campaign and
// clears its earlier decisions and cross-matches (a re-extract before
// packing starts over), before the new decisions are copied. Into an
// empty decisions table (the database's first extract) they go without
// its primary key, built by endExtract: at 1 M members, copying them
// took 2.0-2.3 s with the key, 0.5-0.7 s without and 0.5 s to build it.
func beginExtract(ctx context.Context, tx pgx.Tx, c *shikaku.Campaign, settings string) ([]string, error) {
	branch := c.BranchCode
	if done, err := stepDone(ctx, tx, branch, shikaku.StepPack); err != nil {
		return nil, err
	} else if done {
		return nil, shikaku.ReextractRefused(branch)
	}
	js, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO campaigns (branch_code, name, settings, campaign) VALUES ($1, $2, $3, $4)
		ON CONFLICT (branch_code) DO UPDATE SET name = excluded.name, settings = excluded.settings, campaign = excluded.campaign`,
		branch, c.Name, settings, string(js)); err != nil {
		return nil, err
	}
	for _, q := range []string{
		`DELETE FROM decisions WHERE branch_code = $1`,
		`DELETE FROM losses WHERE branch_code = $1`,
		`DELETE FROM steps WHERE branch_code = $1 AND step IN ('extract', 'crossmatch', 'export')`,
	} {
		if _, err := tx.Exec(ctx, q, branch); err != nil {
			return nil, err
		}
	}
	return deferIndexes(ctx, tx, "decisions")
}

// endExtract builds what beginExtract deferred, gives the planner the new
// decisions' statistics and records the step, once the decisions are
// copied.
func endExtract(ctx context.Context, tx pgx.Tx, branch string, counts map[shikaku.ReasonCode]int, deferred []string) error {
	if err := buildIndexes(ctx, tx, deferred); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `ANALYZE decisions`); err != nil {
		return err
	}
	detail, _ := json.Marshal(counts)
	return recordStep(ctx, tx, branch, shikaku.StepExtract, detail)
}

// CrossMatch records the loss file and, before packing, removes targets.
func (s *Store) CrossMatch(ctx context.Context, branch, file string, losses []shikaku.Loss, removes func(shikaku.MemberKey) bool) (shikaku.CrossMatchResult, error) {
	res := shikaku.CrossMatchResult{Rows: len(losses)}
	err := s.tx(ctx, branch, func(tx pgx.Tx) error {
		if done, err := stepDone(ctx, tx, branch, shikaku.StepExtract); err != nil {
			return err
		} else if !done {
			return shikaku.NotExtractedYet(branch)
		}
		packed, err := stepDone(ctx, tx, branch, shikaku.StepPack)
		if err != nil {
			return err
		}
		res.Recorded = packed
		// One pass over the members of the households the file names, in
		// key order, answers both questions: which loss keys are members of
		// the branch, and which targets a loss can remove (each household's
		// members are next to each other in the key index and the table).
		// Two separate lookups read the same pages twice, at 10 M members
		// 10.6 and 10.0 s beside each other in a run.
		var pick func(shikaku.MemberKey) bool
		if !packed {
			pick = removes
		}
		known, removed, err := lossHouseholdMembers(ctx, tx, branch, losses, pick)
		if err != nil {
			return err
		}
		at := time.Now().UTC()
		rows := func(yield func([]any, error) bool) {
			for i, l := range losses {
				if !known[l.Key] {
					res.Unknown = append(res.Unknown, l.Key)
				}
				if !yield([]any{branch, file, int32(i + 2), l.Key.Branch, l.Key.Symbol, l.Key.Number, l.Key.BranchNo,
					l.LostOn, l.Reason, known[l.Key], at}, nil) {
					return
				}
			}
		}
		if _, err := copyFrom(ctx, tx, "losses", []string{"branch_code", "file", "line", "key_branch", "symbol", "number", "branch_no", "lost_on", "reason", "known", "recorded_at"}, rows); err != nil {
			return err
		}
		if !packed {
			if res.Removed, err = removeTargets(ctx, tx, removed); err != nil {
				return err
			}
		}
		var total int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM decisions WHERE branch_code = $1 AND decision = $2`, branch, string(shikaku.RLostAfterExtraction)).Scan(&total); err != nil {
			return err
		}
		return recordStep(ctx, tx, branch, res.Step(), res.Detail(total))
	})
	return res, err
}

// lossHouseholdMembers reads the members of the branch's households named
// in the loss rows with their decisions: which loss keys are members, and
// the IDs of the targets among them that removes picks (none when removes
// is nil, after pack). Only IDs are kept: at 40 M members the loss file
// names 1.9 M members, and keeping the targets whole took the step's peak
// RSS from 0.7 to 1.6 GiB.
func lossHouseholdMembers(ctx context.Context, tx pgx.Tx, branch string, losses []shikaku.Loss, removes func(shikaku.MemberKey) bool) (map[shikaku.MemberKey]bool, []int64, error) {
	var sym, num []string
	for _, hk := range shikaku.LossHouseholds(losses, branch) {
		sym, num = append(sym, hk.Symbol), append(num, hk.Number)
	}
	type row struct {
		id       int64
		key      shikaku.MemberKey
		decision pgtype.Text
	}
	keys := shikaku.LossKeys(losses, branch)
	known := make(map[shikaku.MemberKey]bool, len(keys))
	for _, k := range keys {
		known[k] = false
	}
	var removed []int64
	for r, err := range query(ctx, tx, `SELECT m.id, m.symbol, m.number, m.branch_no, d.decision FROM members m
		JOIN unnest($2::text[], $3::text[]) AS h(symbol, number) ON m.symbol = h.symbol AND m.number = h.number
		LEFT JOIN decisions d ON d.member_id = m.id
		WHERE m.branch_code = $1`, []any{branch, sym, num},
		func(r pgx.Rows, t *row) error {
			t.key.Branch = branch
			return r.Scan(&t.id, &t.key.Symbol, &t.key.Number, &t.key.BranchNo, &t.decision)
		}) {
		if err != nil {
			return nil, nil, err
		}
		if _, named := known[r.key]; named {
			known[r.key] = true
		}
		if removes != nil && r.decision.String == string(shikaku.Target) && removes(r.key) {
			removed = append(removed, r.id)
		}
	}
	return known, removed, nil
}

// removeTargets marks the targets picked R_LOST_AFTER_EXTRACTION.
func removeTargets(ctx context.Context, tx pgx.Tx, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, `UPDATE decisions SET decision = $1 WHERE member_id = ANY($2)`, string(shikaku.RLostAfterExtraction), ids)
	return int(tag.RowsAffected()), err
}
