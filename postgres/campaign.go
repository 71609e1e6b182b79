package postgres

import (
	"context"
	"encoding/json"
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
		if done, err := stepDone(ctx, tx, branch, shikaku.StepPack); err != nil {
			return err
		} else if done {
			return shikaku.ReextractRefused(branch)
		}
		js, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (branch_code, name, settings, campaign) VALUES ($1, $2, $3, $4)
			ON CONFLICT (branch_code) DO UPDATE SET name = excluded.name, settings = excluded.settings, campaign = excluded.campaign`,
			branch, c.Name, settings, string(js)); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM decisions WHERE branch_code = $1`,
			`DELETE FROM losses WHERE branch_code = $1`,
			`DELETE FROM steps WHERE branch_code = $1 AND step IN ('extract', 'crossmatch', 'export')`,
		} {
			if _, err := tx.Exec(ctx, q, branch); err != nil {
				return err
			}
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
		decisions := func(yield func([]any, error) bool) {
			var out []shikaku.ReasonCode
			for h, err := range shikaku.GroupHouseholds(members) {
				if err != nil {
					yield(nil, err)
					return
				}
				out = append(out[:0], make([]shikaku.ReasonCode, len(h.Members))...)
				decide(h, out)
				for i, code := range out {
					counts[code]++
					if !yield([]any{h.Members[i].ID, branch, string(code), h.Insured().ID}, nil) {
						return
					}
				}
			}
		}
		if _, err := copyFrom(ctx, tx, "decisions", []string{"member_id", "branch_code", "decision", "insured_id"}, decisions); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ANALYZE decisions`); err != nil {
			return err
		}
		detail, _ := json.Marshal(counts)
		return recordStep(ctx, tx, branch, shikaku.StepExtract, detail)
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
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
		// Which loss keys are members of the branch: one query for all,
		// looked up in key order.
		known := map[shikaku.MemberKey]bool{}
		var sym, num, bn []string
		for _, k := range shikaku.LossKeys(losses, branch) {
			sym, num, bn = append(sym, k.Symbol), append(num, k.Number), append(bn, k.BranchNo)
		}
		for k, err := range query(ctx, tx, `SELECT m.symbol, m.number, m.branch_no FROM members m
			JOIN unnest($2::text[], $3::text[], $4::text[]) AS l(symbol, number, branch_no)
			ON m.symbol = l.symbol AND m.number = l.number AND m.branch_no = l.branch_no WHERE m.branch_code = $1`,
			[]any{branch, sym, num, bn}, func(r pgx.Rows, k *shikaku.MemberKey) error {
				k.Branch = branch
				return r.Scan(&k.Symbol, &k.Number, &k.BranchNo)
			}) {
			if err != nil {
				return err
			}
			known[k] = true
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
			if res.Removed, err = removeTargets(ctx, tx, branch, losses, removes); err != nil {
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

// removeTargets asks removes about the targets of the households named
// in the loss file and marks those it picks R_LOST_AFTER_EXTRACTION.
func removeTargets(ctx context.Context, tx pgx.Tx, branch string, losses []shikaku.Loss, removes func(shikaku.MemberKey) bool) (int, error) {
	var sym, num []string
	for _, hk := range shikaku.LossHouseholds(losses, branch) {
		sym, num = append(sym, hk.Symbol), append(num, hk.Number)
	}
	var ids []int64
	for r, err := range query(ctx, tx, `SELECT m.id, m.symbol, m.number, m.branch_no FROM members m
		JOIN unnest($2::text[], $3::text[]) AS h(symbol, number) ON m.symbol = h.symbol AND m.number = h.number
		JOIN decisions d ON d.member_id = m.id
		WHERE m.branch_code = $1 AND d.decision = $4`, []any{branch, sym, num, string(shikaku.Target)},
		func(r pgx.Rows, t *shikaku.Member) error {
			t.Key.Branch = branch
			return r.Scan(&t.ID, &t.Key.Symbol, &t.Key.Number, &t.Key.BranchNo)
		}) {
		if err != nil {
			return 0, err
		}
		if removes(r.Key) {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, `UPDATE decisions SET decision = $1 WHERE member_id = ANY($2)`, string(shikaku.RLostAfterExtraction), ids)
	return int(tag.RowsAffected()), err
}
