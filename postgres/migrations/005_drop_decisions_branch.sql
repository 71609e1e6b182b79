-- decisions_branch (branch_code, decision) cost 1.1–2.1 s of index
-- maintenance per million decisions written by extract (measured by
-- loading 1 M decisions with and without it), and the reads did not need
-- it: the targets are a third of a branch and are read by scanning its
-- decisions; the few other reads by decision count them once per step.
-- Without it, the cross-match's change of a decision is a HOT update.
DROP INDEX IF EXISTS decisions_branch;
