package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"

	"shikaku"
	"shikaku/lifesql"
)

var memberColumns = []string{
	"branch_code", "symbol", "number", "branch_no", "relationship", "insured_type",
	"name", "name_kana", "birth_date", "sex", "acquired_on", "decided_on", "lost_on",
	"scheduled_loss_on", "employer_code", "postal_code", "address", "address_line2",
	"mynumber_on_file", "myna_linked_on", "ecert_expires_on", "dv",
	"certificate_issued_on", "copay_rate", "language",
}

// ImportMembers replaces the members of the branches in rows, in one
// transaction; any error from rows rolls everything back.
func (s *Store) ImportMembers(ctx context.Context, rows iter.Seq2[*shikaku.Member, error]) (map[string]int, error) {
	return s.importMembers(ctx, rows, nil)
}

// ImportAndExtract imports the members and, in the same transaction,
// decides c's branch household by household as its rows go in, when they
// come in key order: run's extract then does not read every member back.
func (s *Store) ImportAndExtract(ctx context.Context, rows iter.Seq2[*shikaku.Member, error], c *shikaku.Campaign, settings string, decide func(*shikaku.Household, []shikaku.ReasonCode)) (map[string]int, map[shikaku.ReasonCode]int, error) {
	along := &importExtraction{c: c, settings: settings, decide: decide}
	counts, err := s.importMembers(ctx, rows, along)
	if err != nil || along.off {
		return counts, nil, err
	}
	return counts, along.x.counts, nil
}

// importExtraction decides a campaign's households while the import
// stores them. It is off, its decisions deleted, once a row comes out of
// key order (a household's members may then be apart, and the IDs SQLite
// gives no longer follow the rows), or when the branch has no rows; the
// import then stands alone and Extract is still to run.
type importExtraction struct {
	c        *shikaku.Campaign
	settings string
	decide   func(*shikaku.Household, []shikaku.ReasonCode)
	x        *extraction // started at the branch's first row
	g        shikaku.HouseholdGrouper
	off      bool
}

// add takes a stored row with the ID SQLite gives it.
func (a *importExtraction) add(ctx context.Context, tx *writeTx, m *shikaku.Member, id int64) error {
	if a.off || m.Key.Branch != a.c.BranchCode {
		return nil
	}
	if a.x == nil {
		var err error
		if a.x, err = startExtract(ctx, tx, a.c, a.settings, a.decide); err != nil {
			return err
		}
	}
	stored := *m
	stored.ID = id
	return a.g.Add(stored, a.x.household)
}

// stop leaves the branch to Extract: the decisions stored so far go.
func (a *importExtraction) stop(ctx context.Context, tx *writeTx) error {
	if a.off {
		return nil
	}
	a.off = true
	if a.x == nil {
		return nil
	}
	if err := a.x.ins.flush(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM decisions WHERE branch_code = ?`, a.c.BranchCode)
	return err
}

// end decides the last household and records the extract step.
func (a *importExtraction) end(ctx context.Context, tx *writeTx) error {
	if a.off || a.x == nil {
		a.off = true
		return nil
	}
	if err := a.g.Flush(a.x.household); err != nil {
		return err
	}
	return a.x.end(ctx, tx)
}

// importMembers imports rows, and decides along's campaign on the way
// when along is not nil.
func (s *Store) importMembers(ctx context.Context, rows iter.Seq2[*shikaku.Member, error], along *importExtraction) (map[string]int, error) {
	counts := map[string]int{}
	err := s.tx(ctx, func(tx *writeTx) error {
		// The key index, the database's own guard against duplicate keys
		// beside the reader's check, is kept up while rows come in key order,
		// as core systems export them: appending to it costs less than
		// building it afterwards (a million members, sqlite3 shell: 0.3 s
		// against 0.9 s). At the first row out of order it is dropped and
		// built after the load, one sort instead of random inserts.
		if err := createMemberKeyIndex(ctx, tx.Tx); err != nil {
			return err
		}
		inOrder := true
		var prev shikaku.MemberKey
		// SQLite gives a new row the ID above the largest, so with the rows
		// in key order a branch's IDs follow its keys, from the ID after
		// the largest when its first row comes; extract and pack read the
		// members by ranges of IDs then. (Binding the IDs ourselves cost
		// about 0.4 s per million members.)
		ids := map[string]*idRange{}
		var branches []string // in the order of the file
		ins, err := newBulk(ctx, tx, "members", memberColumns)
		if err != nil {
			return err
		}
		for m, err := range rows {
			if err != nil {
				return err
			}
			if _, seen := counts[m.Key.Branch]; !seen {
				if err := replaceBranch(ctx, tx.Tx, m.Key.Branch); err != nil {
					return err
				}
				if err := ins.flush(); err != nil {
					return fmt.Errorf("加入者を保存できません: %w", err)
				}
				var last int64
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM members`).Scan(&last); err != nil {
					return err
				}
				ids[m.Key.Branch] = &idRange{First: last + 1}
				branches = append(branches, m.Key.Branch)
			}
			if inOrder && len(counts) > 0 && !prev.Less(m.Key) {
				if along != nil {
					if err := along.stop(ctx, tx); err != nil {
						return err
					}
				}
				// Rows already queued go in first: the insert must not
				// meet a statement on a table whose schema changed.
				if err := ins.flush(); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DROP INDEX members_key`); err != nil {
					return err
				}
				if ins, err = newBulk(ctx, tx, "members", memberColumns); err != nil {
					return err
				}
				inOrder = false
			}
			prev = m.Key
			if along != nil && inOrder {
				// The row's ID: rows in key order take their branch's IDs in turn.
				if err := along.add(ctx, tx, m, ids[m.Key.Branch].First+int64(counts[m.Key.Branch])); err != nil {
					return err
				}
			}
			counts[m.Key.Branch]++
			ins.text(m.Key.Branch)
			ins.text(m.Key.Symbol)
			ins.text(m.Key.Number)
			ins.text(m.Key.BranchNo)
			ins.text(string(m.Relationship))
			ins.text(string(m.InsuredType))
			ins.text(m.Name)
			ins.text(m.NameKana)
			ins.date(m.BirthDate)
			ins.int(int64(m.Sex))
			ins.date(m.AcquiredOn)
			ins.date(m.DecidedOn)
			ins.date(m.LostOn)
			ins.date(m.ScheduledLossOn)
			ins.text(m.EmployerCode)
			ins.text(m.PostalCode)
			ins.text(m.Address)
			ins.text(m.AddressLine2)
			ins.int(int64(boolInt(m.MynumberOnFile)))
			ins.date(m.MynaLinkedOn)
			ins.date(m.EcertExpiresOn)
			ins.int(int64(boolInt(m.DV)))
			ins.date(m.CertificateIssuedOn)
			if m.CopayRate != 0 {
				ins.int(int64(m.CopayRate))
			} else {
				ins.null()
			}
			ins.text(m.Language)
			if err := ins.row(); err != nil {
				return fmt.Errorf("加入者 %s を保存できません: %w", m.Key, err)
			}
		}
		if err := ins.flush(); err != nil {
			return fmt.Errorf("加入者を保存できません: %w", err)
		}
		if !inOrder {
			if err := createMemberKeyIndex(ctx, tx.Tx); err != nil {
				return err
			}
		}
		if inOrder {
			if inOrder, err = idsFollow(ctx, tx, branches, ids, counts); err != nil {
				return err
			}
		}
		if along != nil {
			if !inOrder { // out of order from a row on, or IDs not as SQLite was to give them
				if err := along.stop(ctx, tx); err != nil {
					return err
				}
			}
			if err := along.end(ctx, tx); err != nil {
				return err
			}
		}
		for branch, n := range counts {
			d := importDetail{Members: n}
			if inOrder {
				d.IDs = ids[branch]
			}
			detail, _ := json.Marshal(d)
			if err := recordStep(ctx, tx.Tx, branch, shikaku.StepImport, string(detail)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// idsFollow completes each branch's ID range from its count and checks
// that the ranges are what SQLite's IDs (the largest plus one) give: each
// branch's range starts right after the one before and the last ends at
// the largest ID.
func idsFollow(ctx context.Context, tx *writeTx, branches []string, ids map[string]*idRange, counts map[string]int) (bool, error) {
	var largest int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM members`).Scan(&largest); err != nil {
		return false, err
	}
	for i, b := range branches {
		r := ids[b]
		r.Last = r.First + int64(counts[b]) - 1
		if i+1 < len(branches) && ids[branches[i+1]].First != r.Last+1 || i+1 == len(branches) && r.Last != largest {
			return false, nil
		}
	}
	return true, nil
}

// importDetail is what the import step records of a branch.
type importDetail struct {
	Members int `json:"members"`
	// IDs is the range of the branch's member IDs when they follow its
	// keys (the file came in key order); nil when they do not.
	IDs *idRange `json:"ids,omitempty"`
}

// importRecord reads what the import step recorded of a branch; a branch
// imported by an older version, or not imported, has no IDs.
func importRecord(ctx context.Context, q rowQuerier, branch string) (importDetail, error) {
	var d importDetail
	var detail string
	err := q.QueryRowContext(ctx, `SELECT detail FROM steps WHERE branch_code = ? AND step = ?`, branch, shikaku.StepImport).Scan(&detail)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		return d, fmt.Errorf("取り込みの記録を読めません: %w", err)
	}
	if d.IDs != nil && d.IDs.Last < d.IDs.First {
		d.IDs = nil
	}
	return d, nil
}

// idRange is a range of member IDs, both ends included.
type idRange struct {
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// createMemberKeyIndex builds the unique index of member keys unless it is
// there; a key given twice fails it.
func createMemberKeyIndex(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS members_key ON members (branch_code, symbol, number, branch_no)`); err != nil {
		return fmt.Errorf("加入者キーの索引を作れません（キーの重複）: %w", err)
	}
	return nil
}

// replaceBranch empties a branch before its new snapshot, unless its
// campaign has been extracted.
func replaceBranch(ctx context.Context, tx *sql.Tx, branch string) error {
	done, err := stepDone(ctx, tx, branch, shikaku.StepExtract)
	if err != nil {
		return err
	}
	if done {
		return shikaku.ReimportRefused(branch)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM members WHERE branch_code = ?`, branch)
	return err
}

// ImportEmployers adds or updates employers in one transaction. The rows
// go through the bulk insert (one C call per batch): 1.6 M employers, a
// nationwide file, took 36.6 s as one database/sql Exec each.
func (s *Store) ImportEmployers(ctx context.Context, rows iter.Seq2[*shikaku.Employer, error]) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *writeTx) error {
		ins, err := newBulkUpsert(ctx, tx, "employers", []string{"employer_code", "name", "postal_code", "address", "address_line2", "contact", "closed_on"},
			`ON CONFLICT (employer_code) DO UPDATE SET name = excluded.name, postal_code = excluded.postal_code,
			address = excluded.address, address_line2 = excluded.address_line2, contact = excluded.contact, closed_on = excluded.closed_on`)
		if err != nil {
			return err
		}
		for e, err := range rows {
			if err != nil {
				return err
			}
			ins.text(e.Code)
			ins.text(e.Name)
			ins.text(e.PostalCode)
			ins.text(e.Address)
			ins.text(e.AddressLine2)
			ins.text(e.Contact)
			ins.date(e.ClosedOn)
			if err := ins.row(); err != nil {
				return fmt.Errorf("事業所 %s を保存できません: %w", e.Code, err)
			}
			n++
		}
		if err := ins.flush(); err != nil {
			return fmt.Errorf("事業所を保存できません: %w", err)
		}
		return nil
	})
	return n, err
}

// EmployerCodes lists the known employer codes.
func (s *Store) EmployerCodes(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT employer_code FROM employers`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	codes := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		codes[c] = true
	}
	return codes, rows.Err()
}

// MemberCount is the number of members of a branch.
func (s *Store) MemberCount(ctx context.Context, branch string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE branch_code = ?`, branch).Scan(&n)
	return n, err
}

// Branches lists the branches with a campaign.
func (s *Store) Branches(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT branch_code FROM campaigns ORDER BY branch_code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Campaign loads the campaign of a branch.
func (s *Store) Campaign(ctx context.Context, branch string) (*shikaku.Campaign, error) {
	var js string
	err := s.db.QueryRowContext(ctx, `SELECT campaign FROM campaigns WHERE branch_code = ?`, branch).Scan(&js)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, shikaku.CampaignMissing(branch)
	}
	if err != nil {
		return nil, err
	}
	var c shikaku.Campaign
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		return nil, fmt.Errorf("支部 %s のキャンペーン設定を読めません: %w", branch, err)
	}
	return &c, nil
}

// Steps lists the steps done for a branch.
func (s *Store) Steps(ctx context.Context, branch string) ([]shikaku.Step, error) {
	return lifesql.ReadSteps(ctx, s.db, lifesql.Dialect{}, branch)
}
