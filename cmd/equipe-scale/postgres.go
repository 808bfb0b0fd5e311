package main

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// postgresLoader writes with COPY (pgx's CopyFrom), in one transaction on
// a connection of its own, with memory enough to build the indexes again
// in one pass.
type postgresLoader struct {
	conn     *pgx.Conn
	progress func(format string, args ...any)
}

func openPostgresLoader(ctx context.Context, url string, progress func(string, ...any)) (*postgresLoader, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return &postgresLoader{conn: conn, progress: progress}, nil
}

func (l *postgresLoader) close() error { return l.conn.Close(context.Background()) }

func (l *postgresLoader) exec(ctx context.Context, query string, args ...any) error {
	for i, x := range args {
		args[i] = postgresValue(x)
	}
	_, err := l.conn.Exec(ctx, query, args...)
	return err
}

func (l *postgresLoader) count(ctx context.Context, query string) (int, error) {
	var n int
	err := l.conn.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func (l *postgresLoader) columns(ctx context.Context, name string) (all, required []string, err error) {
	rows, err := l.conn.Query(ctx, `SELECT column_name, is_nullable = 'NO' AND column_default IS NULL
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, name)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var col string
		var req bool
		if err := rows.Scan(&col, &req); err != nil {
			return nil, nil, err
		}
		all = append(all, col)
		if req {
			required = append(required, col)
		}
	}
	return all, required, rows.Err()
}

func (l *postgresLoader) load(ctx context.Context, tables []table) error {
	if _, err := l.conn.Exec(ctx, "SET maintenance_work_mem = '512MB'"); err != nil {
		return err
	}
	tx, err := l.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// A bulk load's commit need not wait for the disk before the next
	// statement: the whole load is one transaction, redone from scratch if
	// the machine stops.
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return err
	}
	var names []string
	for _, t := range tables {
		names = append(names, t.name)
	}
	// The indexes that back no constraint (primary keys and UNIQUE stay).
	rows, err := tx.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
		ORDER BY i.indexname`, names)
	if err != nil {
		return err
	}
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var ix [2]string
		err := r.Scan(&ix[0], &ix[1])
		return ix, err
	})
	if err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, "DROP INDEX "+pgx.Identifier{ix[0]}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: drop index %s: %w", ix[0], err)
		}
	}
	for _, t := range tables {
		start := time.Now()
		next, stop := iter.Pull(t.rows)
		_, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromFunc(func() ([]any, error) {
			v, ok := next()
			if !ok {
				return nil, nil
			}
			for i, x := range v {
				v[i] = postgresValue(x)
			}
			return v, nil
		}))
		stop()
		if err != nil {
			return fmt.Errorf("postgres: copy into %s: %w", t.name, err)
		}
		l.progress("%s: %.1f s", t.name, time.Since(start).Seconds())
	}
	start := time.Now()
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, ix[1]); err != nil {
			return fmt.Errorf("postgres: create index %s: %w", ix[0], err)
		}
	}
	l.progress("%d indexes: %.1f s", len(indexes), time.Since(start).Seconds())
	for _, t := range tables {
		if _, err := tx.Exec(ctx, "ANALYZE "+pgx.Identifier{t.name}.Sanitize()); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// postgresValue is x as pgx writes it: an ID as its 16 bytes.
func postgresValue(x any) any {
	if v, ok := x.(uuid.UUID); ok {
		return [16]byte(v)
	}
	return x
}
