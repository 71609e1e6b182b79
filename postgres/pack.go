package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"shikaku"
)

// Pack runs fn in one transaction: envelopes, certificates and the
// counters of tracking numbers and IDs are committed together or not at
// all. A killed process leaves no number handed out; the server rolls the
// transaction back when the connection drops.
func (s *Store) Pack(ctx context.Context, branch string, fn func(shikaku.PackTx) (shikaku.PackResult, error)) (shikaku.PackResult, error) {
	var res shikaku.PackResult
	err := s.tx(ctx, branch, func(tx pgx.Tx) error {
		if done, err := stepDone(ctx, tx, branch, shikaku.StepExtract); err != nil {
			return err
		} else if !done {
			return shikaku.NotExtractedYet(branch)
		}
		if done, err := stepDone(ctx, tx, branch, shikaku.StepPack); err != nil {
			return err
		} else if done {
			return shikaku.RepackRefused(branch)
		}
		// Every row pack writes goes through six indexes, one of them
		// (certificates_member) in random order; once that one outgrows
		// the server's buffers, every insert reads a page back and logs it
		// whole after each checkpoint. At 10 M members, pack alone on
		// copies of one database: 76.7-113.7 s with the indexes kept up;
		// 70 s with certificates_member built after the load; 52.5-55.9 s
		// with all six (WAL 1.8 GB -> 0.9 GB). The unique ones (envelope
		// and certificate IDs, tracking numbers) still refuse a
		// duplicate: their build fails and the pack rolls back.
		deferred, err := deferIndexes(ctx, tx, "envelopes", "certificates")
		if err != nil {
			return err
		}
		d, err := importRecord(ctx, tx, branch)
		if err != nil {
			return err
		}
		// The households and their count are read at the same time, on
		// two snapshots of their own.
		read, err := s.snapshot(ctx)
		if err != nil {
			return err
		}
		defer read.Rollback(context.WithoutCancel(ctx))
		count, err := s.snapshot(ctx)
		if err != nil {
			return err
		}
		defer count.Rollback(context.WithoutCancel(ctx))
		res, err = fn(&packTx{tx: tx, read: read, count: count, ids: d.IDs, branch: branch})
		if err != nil {
			return err
		}
		if err := buildIndexes(ctx, tx, deferred); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ANALYZE envelopes, certificates`); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]int{"households": res.Households, "envelopes": res.Envelopes, "certificates": res.Certificates})
		return recordStep(ctx, tx, branch, shikaku.StepPack, detail)
	})
	return res, err
}

type packTx struct {
	tx, read, count pgx.Tx
	ids             *idRange // the branch's member IDs, when they follow its keys
	branch          string
}

func (p *packTx) Counters(ctx context.Context) (shikaku.Counters, error) {
	c := shikaku.Counters{NextEnvelope: 1, NextCert: 1}
	type kv struct {
		name  string
		value int64
	}
	for v, err := range query(ctx, p.tx, `SELECT name, value FROM counters WHERE branch_code = $1`, []any{p.branch},
		func(r pgx.Rows, v *kv) error { return r.Scan(&v.name, &v.value) }) {
		if err != nil {
			return c, err
		}
		switch v.name {
		case shikaku.CounterTracking:
			c.TrackingUsed = uint64(v.value)
		case shikaku.CounterEnvelope:
			c.NextEnvelope = v.value
		case shikaku.CounterCertificate:
			c.NextCert = v.value
		}
	}
	return c, nil
}

func (p *packTx) SaveCounters(ctx context.Context, c shikaku.Counters) error {
	for name, v := range map[string]int64{shikaku.CounterTracking: int64(c.TrackingUsed), shikaku.CounterEnvelope: c.NextEnvelope, shikaku.CounterCertificate: c.NextCert} {
		if _, err := p.tx.Exec(ctx, `INSERT INTO counters (branch_code, name, value) VALUES ($1, $2, $3)
			ON CONFLICT (branch_code, name) DO UPDATE SET value = excluded.value`, p.branch, name, v); err != nil {
			return err
		}
	}
	return nil
}

// TargetCounts counts each household's targets. When the import recorded
// that the branch's member IDs follow its keys, a household's decisions
// are consecutive in member ID order, so the counts are runs of one
// insured_id along the decisions' primary key, counted here. The GROUP BY
// hashes every target instead, beside the households' sort at the start of
// pack: at 10 M members it spilled to disk in 81 batches and took 5.3-6.6 s
// alone (16.1 s in a whole pack), the ordered scan 3.4 s.
func (p *packTx) TargetCounts(ctx context.Context) iter.Seq2[int, error] {
	if p.ids == nil {
		return background(ctx, p.count, `SELECT COUNT(*) FROM decisions
			WHERE branch_code = $1 AND decision = $2 GROUP BY insured_id`, []any{p.branch, string(shikaku.Target)},
			func(r pgx.Rows, n *int) error { return r.Scan(n) })
	}
	return shikaku.CountTargetRuns(p.branch, background(ctx, p.count, `SELECT insured_id FROM decisions
		WHERE member_id BETWEEN $1 AND $2 AND branch_code = $3 AND decision = $4 ORDER BY member_id`,
		[]any{p.ids.First, p.ids.Last, p.branch, string(shikaku.Target)},
		func(r pgx.Rows, id *int64) error { return r.Scan(id) }))
}

func (p *packTx) Households(ctx context.Context) iter.Seq2[*shikaku.PackHousehold, error] {
	rows := background(ctx, p.read, `SELECT m.id, m.symbol, m.number, m.branch_no, m.birth_date, m.dv, m.language,
			h.id, h.branch_no, h.insured_type, h.scheduled_loss_on, h.dv, h.postal_code, h.address, h.address_line2, h.employer_code, h.language
		FROM decisions d
		JOIN members m ON m.id = d.member_id
		JOIN members h ON h.id = d.insured_id
		WHERE d.branch_code = $1 AND d.decision = $2
		ORDER BY h.postal_code, h.address, m.symbol, m.number, m.branch_no`, []any{p.branch, string(shikaku.Target)},
		func(r pgx.Rows, row *shikaku.TargetRow) error {
			t, ins := &row.Target, &row.Insured
			var birth, sched pgtype.Date
			var typ string
			if err := r.Scan(&t.ID, &t.Key.Symbol, &t.Key.Number, &t.Key.BranchNo, &birth, &t.DV, &t.Language,
				&ins.ID, &ins.Key.BranchNo, &typ, &sched, &ins.DV, &ins.PostalCode, &ins.Address, &ins.AddressLine2, &ins.EmployerCode, &ins.Language); err != nil {
				return err
			}
			t.Key.Branch = p.branch
			t.BirthDate = date(birth)
			ins.Key.HouseholdKey = t.Key.HouseholdKey
			ins.InsuredType = shikaku.InsuredType(typ)
			ins.ScheduledLossOn = date(sched)
			if t.Key.Insured() {
				t.InsuredType, t.ScheduledLossOn, t.EmployerCode = ins.InsuredType, ins.ScheduledLossOn, ins.EmployerCode
			}
			return nil
		})
	return shikaku.GroupTargets(rows)
}

var (
	envelopeColumns = []string{"envelope_id", "branch_code", "kind", "seq", "symbol", "number",
		"addressee_no", "employer_code", "k", "n", "tracking_no", "wave", "send_on", "postal_code", "address", "address_line2", "certificates", "language"}
	certificateColumns = []string{"certificate_id", "envelope_id", "position", "member_id", "branch_no", "issued_on", "valid_until"}
)

func (p *packTx) SaveEnvelopes(ctx context.Context, envs []shikaku.Envelope) error {
	i := 0
	if _, err := copyRows(ctx, p.tx, "envelopes", envelopeColumns, func(w *copyEncoder) (bool, error) {
		if i == len(envs) {
			return false, nil
		}
		e := &envs[i]
		i++
		w.row(len(envelopeColumns))
		w.text(e.ID)
		w.text(p.branch)
		w.text("bulk")
		w.int64(e.Seq)
		w.text(e.Household.Symbol)
		w.text(e.Household.Number)
		w.text(e.Addressee.BranchNo)
		w.text(e.EmployerCode)
		w.int32(e.K)
		w.int32(e.N)
		w.int64(int64(e.TrackingNumber))
		w.int32(e.Wave)
		w.date(e.SendOn)
		w.text(e.To.PostalCode)
		w.text(e.To.Address)
		w.text(e.To.Line2)
		w.int32(len(e.Certificates))
		w.text(e.Language)
		return true, nil
	}); err != nil {
		return fmt.Errorf("封筒を保存できません: %w", err)
	}
	i, pos := 0, 0
	if _, err := copyRows(ctx, p.tx, "certificates", certificateColumns, func(w *copyEncoder) (bool, error) {
		for i < len(envs) && pos == len(envs[i].Certificates) {
			i, pos = i+1, 0
		}
		if i == len(envs) {
			return false, nil
		}
		e := &envs[i]
		c := &e.Certificates[pos]
		pos++
		w.row(len(certificateColumns))
		w.text(c.ID)
		w.text(e.ID)
		w.int32(pos)
		w.int64(c.MemberID)
		w.text(c.Member.BranchNo)
		w.date(c.IssuedOn)
		w.date(c.ValidUntil)
		return true, nil
	}); err != nil {
		return fmt.Errorf("資格確認書を保存できません: %w", err)
	}
	return nil
}
