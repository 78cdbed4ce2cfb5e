package sqlerp

import "context"

// SetBeforeCommit makes f run before each group commit's COMMIT on SQLite, with the
// number of orders in the group and of those it booked; an error from f stands for a
// failed COMMIT.
func SetBeforeCommit(db *DB, f func(orders, booked int) error) { db.group.beforeCommit = f }

// KeptReads is how many read statements db keeps prepared (0 where it keeps none).
func KeptReads(db *DB) int {
	if r, ok := db.reads.(*readRunner); ok {
		return int(r.n.Load())
	}
	return 0
}

// InsertID runs d's InsertID of insert on r and returns the id it read.
func InsertID(ctx context.Context, r Runner, d Dialect, insert string, args ...any) (int64, error) {
	s, readID := d.InsertID(insert, args)
	res := send(ctx, r, s)
	defer res.close()
	return readID(res)
}
