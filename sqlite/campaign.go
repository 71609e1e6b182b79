package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"shikaku"
	"shikaku/pipe"
)

// Extract saves the campaign and decides every member of its branch, in
// one transaction, streaming the members household by household.
func (s *Store) Extract(ctx context.Context, c *shikaku.Campaign, settings string, decide func(*shikaku.Household, []shikaku.ReasonCode)) (map[shikaku.ReasonCode]int, error) {
	var x *extraction
	err := s.tx(ctx, func(tx *writeTx) error {
		var err error
		if x, err = startExtract(ctx, tx, c, settings, decide); err != nil {
			return err
		}
		members, release, err := s.extractMembers(ctx, tx, c.BranchCode)
		defer release()
		if err != nil {
			return err
		}
		for h, err := range shikaku.GroupHouseholds(members) {
			if err != nil {
				return err
			}
			if err := x.household(h); err != nil {
				return err
			}
		}
		return x.end(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return x.counts, nil
}

// extraction gives a branch's households their decisions, in one
// transaction: read back by Extract, or as ImportAndExtract stores them.
type extraction struct {
	c        *shikaku.Campaign
	settings string
	decide   func(*shikaku.Household, []shikaku.ReasonCode)
	ins      *bulk // into decisions
	out      []shikaku.ReasonCode
	counts   map[shikaku.ReasonCode]int
}

// startExtract clears the branch's earlier decisions and cross-matches (a
// re-extract before packing starts over) and prepares the insert of the
// new ones. Refused after pack.
func startExtract(ctx context.Context, tx *writeTx, c *shikaku.Campaign, settings string, decide func(*shikaku.Household, []shikaku.ReasonCode)) (*extraction, error) {
	branch := c.BranchCode
	if done, err := stepDone(ctx, tx, branch, shikaku.StepPack); err != nil {
		return nil, err
	} else if done {
		return nil, shikaku.ReextractRefused(branch)
	}
	for _, q := range []string{
		`DELETE FROM decisions WHERE branch_code = ?`,
		`DELETE FROM losses WHERE branch_code = ?`,
		`DELETE FROM steps WHERE branch_code = ? AND step IN ('extract', 'crossmatch', 'export')`,
	} {
		if _, err := tx.ExecContext(ctx, q, branch); err != nil {
			return nil, err
		}
	}
	ins, err := newBulk(ctx, tx, "decisions", []string{"member_id", "branch_code", "decision", "insured_id"})
	if err != nil {
		return nil, err
	}
	return &extraction{c: c, settings: settings, decide: decide, ins: ins, counts: map[shikaku.ReasonCode]int{}}, nil
}

// household decides one household and queues its decisions.
func (x *extraction) household(h *shikaku.Household) error {
	x.out = append(x.out[:0], make([]shikaku.ReasonCode, len(h.Members))...)
	x.decide(h, x.out)
	for i, code := range x.out {
		x.counts[code]++
		x.ins.int(h.Members[i].ID)
		x.ins.text(x.c.BranchCode)
		x.ins.text(string(code))
		x.ins.int(h.Insured().ID)
		if err := x.ins.row(); err != nil {
			return err
		}
	}
	return nil
}

// end stores the last decisions, saves the campaign and records the step.
func (x *extraction) end(ctx context.Context, tx *writeTx) error {
	if err := x.ins.flush(); err != nil {
		return err
	}
	js, err := json.Marshal(x.c)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO campaigns (branch_code, name, settings, campaign) VALUES (?, ?, ?, ?)
		ON CONFLICT (branch_code) DO UPDATE SET name = excluded.name, settings = excluded.settings, campaign = excluded.campaign`,
		x.c.BranchCode, x.c.Name, x.settings, string(js)); err != nil {
		return err
	}
	detail, _ := json.Marshal(x.counts)
	return recordStep(ctx, tx.Tx, x.c.BranchCode, shikaku.StepExtract, string(detail))
}

// extractColumns are the members' columns the rules read.
const extractColumns = `id, symbol, number, branch_no, insured_type, lost_on, decided_on,
	mynumber_on_file, myna_linked_on, ecert_expires_on, certificate_issued_on, scheduled_loss_on, dv`

// extractChunk is how many member IDs one read of extract covers.
var extractChunk int64 = 16384 // a variable for the tests

// extractMembers streams the members of a branch in key order for
// extract, read on other connections (snapshots taken while tx holds the
// write lock, so they see what it sees) while decisions are written on
// tx's. When the import recorded that the branch's IDs follow its keys,
// two readers take ranges of IDs in turn and the stream joins them in
// order: reading is the step's bottleneck (1 M members read alone: 2.0 s
// through the key index, 1.0 s in ranges on two connections). Otherwise
// one reader walks the key index. The stream checks the order and the
// count it promises. release ends the read transactions, once the stream
// is done with; it is never nil.
func (s *Store) extractMembers(ctx context.Context, tx *writeTx, branch string) (members iter.Seq2[shikaku.Member, error], release func(), err error) {
	var readers []*reader
	release = func() {
		for _, r := range readers {
			r.Close()
		}
	}
	d, err := importRecord(ctx, tx, branch)
	if err != nil {
		return nil, release, err
	}
	scan := func(r *row, m *shikaku.Member) {
		m.ID, m.Key = r.int64(), r.key(branch)
		m.InsuredType, m.LostOn, m.DecidedOn = shikaku.InsuredType(r.text()), r.date(), r.date()
		m.MynumberOnFile, m.MynaLinkedOn, m.EcertExpiresOn = r.flag(), r.date(), r.date()
		m.CertificateIssuedOn, m.ScheduledLossOn, m.DV = r.date(), r.date(), r.flag()
	}
	workers := 2
	if d.IDs == nil {
		workers = 1
	}
	for range workers {
		r, err := s.snapshot(ctx)
		if err != nil {
			return nil, release, err
		}
		readers = append(readers, r)
	}
	if workers == 1 {
		return background(ctx, readers[0], `SELECT `+extractColumns+` FROM members WHERE branch_code = ?
			ORDER BY symbol, number, branch_no`, []any{branch}, scan), release, nil
	}
	first, last := d.IDs.First, d.IDs.Last
	chunks := int((last-first)/extractChunk) + 1
	read := func(ctx context.Context, worker, chunk int) ([]shikaku.Member, error) {
		from := first + int64(chunk)*extractChunk
		out := make([]shikaku.Member, 0, extractChunk)
		err := readers[worker].raw(ctx, func(c *conn) error {
			var err error
			out, err = appendRows(c, out, `SELECT `+extractColumns+` FROM members
				WHERE id BETWEEN ? AND ? AND +branch_code = ? ORDER BY id`, []any{from, min(from+extractChunk-1, last), branch}, scan)
			return err
		})
		return out, err
	}
	return func(yield func(shikaku.Member, error) bool) {
		n := 0
		var prev shikaku.MemberKey
		for m, err := range pipe.Chunks(ctx, chunks, workers, read) {
			if err == nil && n > 0 && !prev.Less(m.Key) {
				err = fmt.Errorf("支部 %s の加入者 %s が番号順に並んでいません（取り込みの記録と合いません）", branch, m.Key)
			}
			if err != nil {
				yield(m, err)
				return
			}
			prev = m.Key
			n++
			if !yield(m, nil) {
				return
			}
		}
		if n != d.Members {
			yield(shikaku.Member{}, fmt.Errorf("支部 %s の加入者を %d 名読みましたが、取り込みの記録は %d 名です", branch, n, d.Members))
		}
	}, release, nil
}

// CrossMatch records the loss file and, before packing, removes targets.
func (s *Store) CrossMatch(ctx context.Context, branch, file string, losses []shikaku.Loss, removes func(shikaku.MemberKey) bool) (shikaku.CrossMatchResult, error) {
	res := shikaku.CrossMatchResult{Rows: len(losses)}
	err := s.tx(ctx, func(tx *writeTx) error {
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
		// Which loss keys are members of the branch, looked up in key order.
		known := map[shikaku.MemberKey]bool{}
		err = tx.raw(ctx, func(c *conn) error {
			lookup, err := prepare(c, `SELECT 1 FROM members WHERE branch_code = ? AND symbol = ? AND number = ? AND branch_no = ?`)
			if err != nil {
				return err
			}
			defer lookup.Close()
			for _, k := range shikaku.LossKeys(losses, branch) {
				known[k] = false
				if err := lookup.each([]any{branch, k.Symbol, k.Number, k.BranchNo}, func(*row) bool {
					known[k] = true
					return false
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		ins, err := newBulk(ctx, tx, "losses", []string{"branch_code", "file", "line", "key_branch", "symbol", "number", "branch_no", "lost_on", "reason", "known", "recorded_at"})
		if err != nil {
			return err
		}
		at := now()
		for i, l := range losses {
			if !known[l.Key] {
				res.Unknown = append(res.Unknown, l.Key)
			}
			if err := ins.add(branch, file, i+2, l.Key.Branch, l.Key.Symbol, l.Key.Number, l.Key.BranchNo, dateArg(l.LostOn), l.Reason, boolInt(known[l.Key]), at); err != nil {
				return err
			}
		}
		if err := ins.flush(); err != nil {
			return err
		}
		if !packed {
			removed, err := removeTargets(ctx, tx, branch, losses, removes)
			if err != nil {
				return err
			}
			res.Removed = removed
		}
		var total int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM decisions WHERE branch_code = ? AND decision = ?`, branch, string(shikaku.RLostAfterExtraction)).Scan(&total); err != nil {
			return err
		}
		return recordStep(ctx, tx.Tx, branch, res.Step(), string(res.Detail(total)))
	})
	return res, err
}

// removeTargets looks at the targets of the households named in the loss
// file (a loss can only remove a member of its own household) and turns
// those removes picks into R_LOST_AFTER_EXTRACTION.
func removeTargets(ctx context.Context, tx *writeTx, branch string, losses []shikaku.Loss, removes func(shikaku.MemberKey) bool) (int, error) {
	removed := 0
	err := tx.raw(ctx, func(c *conn) error {
		targets, err := prepare(c, `SELECT m.id, m.branch_no FROM members m JOIN decisions d ON d.member_id = m.id
			WHERE m.branch_code = ? AND m.symbol = ? AND m.number = ? AND d.decision = ?`)
		if err != nil {
			return err
		}
		defer targets.Close()
		upd, err := prepare(c, `UPDATE decisions SET decision = ? WHERE member_id = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		var ids []int64
		for _, hk := range shikaku.LossHouseholds(losses, branch) {
			ids = ids[:0]
			if err := targets.each([]any{branch, hk.Symbol, hk.Number, string(shikaku.Target)}, func(r *row) bool {
				id, k := r.int64(), shikaku.MemberKey{HouseholdKey: hk, BranchNo: r.text()}
				if removes(k) {
					ids = append(ids, id)
				}
				return true
			}); err != nil {
				return err
			}
			for _, id := range ids {
				if err := upd.exec(string(shikaku.RLostAfterExtraction), id); err != nil {
					return err
				}
				removed++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}
