package sqlerp

// SetBeforeCommit makes f run before each group commit's COMMIT on SQLite, with the
// number of orders the group booked; an error from f stands for a failed COMMIT.
func SetBeforeCommit(db *DB, f func(booked int) error) { db.group.beforeCommit = f }
