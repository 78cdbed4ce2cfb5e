package sqlerp

import (
	"context"
	"fmt"

	"github.com/b2bridge/b2bridge/erp"
)

// Changes implements erp.ERP.
func (db *DB) Changes(ctx context.Context, after int64, limit int) ([]erp.Change, error) {
	rows, err := db.reads.query(ctx, db.Rebind(`SELECT seq, entity, key FROM change_log WHERE seq > ? ORDER BY seq`+db.dialect.Limit), after, limit)
	if err != nil {
		return nil, fmt.Errorf("read change log: %w", err)
	}
	defer rows.Close()
	var out []erp.Change
	for rows.Next() {
		var c erp.Change
		if err := rows.Scan(&c.Seq, &c.Entity, &c.Key); err != nil {
			return nil, fmt.Errorf("read change log: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChangeHead implements erp.ERP.
func (db *DB) ChangeHead(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM change_log`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read change log head: %w", err)
	}
	return seq, nil
}
