package sqlerp

// SetBeforeCommit makes f run before each group commit's COMMIT on SQLite, with the
// number of orders in the group and of those it booked; an error from f stands for a
// failed COMMIT.
func SetBeforeCommit(db *DB, f func(orders, booked int) error) { db.group.beforeCommit = f }
