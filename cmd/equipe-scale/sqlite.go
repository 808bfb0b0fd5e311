package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteBatch is the number of rows of one INSERT: a member's 10 values
// times 500 stay under SQLite's 32,766 parameters, and a statement that
// long costs its parsing once, prepared.
const sqliteBatch = 500

// sqliteLoader writes into the SQLite file of a data directory through a
// connection of its own, set for a bulk load: no rollback journal and no
// sync (a load that fails is started again on a fresh directory), a 64 MiB
// page cache (1 GiB took more CPU: 87 s against 73 s for a million
// members), foreign keys unchecked (the rows are made consistent), one
// transaction. The file is left in WAL mode, as the service wants it.
type sqliteLoader struct {
	db       *sql.DB
	progress func(format string, args ...any)
}

func openSQLiteLoader(ctx context.Context, dir string, progress func(string, ...any)) (*sqliteLoader, error) {
	path := filepath.Join(dir, "equipe.db")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &sqliteLoader{db: db, progress: progress}, nil
}

func (l *sqliteLoader) close() error { return l.db.Close() }

func (l *sqliteLoader) exec(ctx context.Context, query string, args ...any) error {
	for i, x := range args {
		args[i] = sqliteValue(x)
	}
	_, err := l.db.ExecContext(ctx, query, args...)
	return err
}

func (l *sqliteLoader) count(ctx context.Context, query string) (int, error) {
	var n int
	err := l.db.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

func (l *sqliteLoader) columns(ctx context.Context, name string) (all, required []string, err error) {
	rows, err := l.db.QueryContext(ctx, `SELECT name, "notnull", dflt_value IS NOT NULL, pk FROM pragma_table_info($1)`, name)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var col string
		var notNull, hasDefault bool
		var pk int
		if err := rows.Scan(&col, &notNull, &hasDefault, &pk); err != nil {
			return nil, nil, err
		}
		all = append(all, col)
		// A primary key is required even where SQLite does not say NOT NULL.
		if (notNull || pk > 0) && !hasDefault {
			required = append(required, col)
		}
	}
	return all, required, rows.Err()
}

func (l *sqliteLoader) load(ctx context.Context, tables []table) error {
	// The sorts that build the indexes spill to temporary files, in
	// memory-sized runs sorted by the other cores (threads): with
	// temp_store = MEMORY they would sort everything on this one, one
	// allocation a row.
	for _, p := range []string{"journal_mode = OFF", "synchronous = OFF", "cache_size = -65536",
		fmt.Sprintf("threads = %d", runtime.NumCPU())} {
		if _, err := l.db.ExecContext(ctx, "PRAGMA "+p); err != nil {
			return fmt.Errorf("sqlite: PRAGMA %s: %w", p, err)
		}
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var names []string
	for _, t := range tables {
		names = append(names, t.name)
	}
	indexes, err := sqliteIndexes(ctx, tx, names)
	if err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+ix[0]+`"`); err != nil {
			return fmt.Errorf("sqlite: drop index %s: %w", ix[0], err)
		}
	}
	for _, d := range sqliteDeferred {
		var text string
		if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?`, d.trigger).Scan(&text); err != nil {
			return fmt.Errorf("sqlite: trigger %s: %w", d.trigger, err)
		}
		if strings.Join(strings.Fields(text), " ") != strings.Join(strings.Fields(d.sql), " ") {
			return fmt.Errorf("sqlite: the migrations changed trigger %s: its bulk equivalent in the seeder must follow", d.trigger)
		}
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER "`+d.trigger+`"`); err != nil {
			return fmt.Errorf("sqlite: drop trigger %s: %w", d.trigger, err)
		}
	}
	for _, t := range tables {
		start, cpu := time.Now(), cpuTime()
		if err := sqliteInsert(ctx, tx, t); err != nil {
			return fmt.Errorf("sqlite: %s: %w", t.name, err)
		}
		l.progress("%s: %.1f s, %.1f s of CPU", t.name, time.Since(start).Seconds(), (cpuTime() - cpu).Seconds())
	}
	start, cpu := time.Now(), cpuTime()
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, ix[1]); err != nil {
			return fmt.Errorf("sqlite: create index %s: %w", ix[0], err)
		}
	}
	l.progress("%d indexes: %.1f s, %.1f s of CPU", len(indexes), time.Since(start).Seconds(), (cpuTime() - cpu).Seconds())
	start, cpu = time.Now(), cpuTime()
	for _, d := range sqliteDeferred {
		for _, q := range d.bulk {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("sqlite: in place of trigger %s: %w", d.trigger, err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.sql); err != nil {
			return fmt.Errorf("sqlite: create trigger %s: %w", d.trigger, err)
		}
	}
	l.progress("member counts, search and roles' holders: %.1f s, %.1f s of CPU", time.Since(start).Seconds(), (cpuTime() - cpu).Seconds())
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, p := range []string{"journal_mode = WAL", "synchronous = FULL"} {
		if _, err := l.db.ExecContext(ctx, "PRAGMA "+p); err != nil {
			return fmt.Errorf("sqlite: PRAGMA %s: %w", p, err)
		}
	}
	return nil
}

// sqliteDeferred are the triggers on members whose work the load does in
// bulk once the rows are in: dropped first, then each replaced by its bulk
// statements, which write what the trigger would have written row by row,
// and made again as the migrations made it. A statement of 500 members
// fires them 500 times; worse, FTS5 writes its pending index to disk at
// every statement, so that a million members left some 2,000 small
// segments to merge. In bulk, the search index is written from one
// statement, held in memory (FTS5's hashsize, 256 MiB for the statement,
// back to its default of 1 MiB after). The seeder stops if a migration
// changed a trigger's text: its bulk equivalent must follow.
var sqliteDeferred = []struct {
	trigger, sql string
	bulk         []string
}{
	{"members_count_insert", `CREATE TRIGGER members_count_insert AFTER INSERT ON members BEGIN
    INSERT INTO member_counts (account_id, status, n) VALUES (new.account_id, new.status, 1)
    ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
END`, []string{`INSERT INTO member_counts (account_id, status, n)
	SELECT account_id, status, COUNT(*) FROM members GROUP BY account_id, status
	ON CONFLICT (account_id, status) DO UPDATE SET n = n + excluded.n`}},
	{"members_search_insert", `CREATE TRIGGER members_search_insert AFTER INSERT ON members BEGIN
    INSERT INTO member_search_keys (account_id, user_id, words)
    VALUES (new.account_id, new.user_id, new.first_key || ' ' || new.last_key || ' ' || new.email_key);
END`, []string{
		`INSERT INTO member_search (member_search, rank) VALUES ('hashsize', 268435456)`,
		`INSERT INTO member_search_keys (account_id, user_id, words)
		SELECT account_id, user_id, first_key || ' ' || last_key || ' ' || email_key FROM members`,
		`INSERT INTO member_search (member_search, rank) VALUES ('hashsize', 1048576)`,
	}},
	{"members_role_insert", `CREATE TRIGGER members_role_insert AFTER INSERT ON members BEGIN
    INSERT INTO role_members_changed (account_id, role, at) VALUES (new.account_id, new.role, new.updated_at)
    ON CONFLICT (account_id, role) DO UPDATE SET at = MAX(at, excluded.at);
END`, []string{`INSERT INTO role_members_changed (account_id, role, at)
	SELECT account_id, role, MAX(updated_at) FROM members WHERE true GROUP BY account_id, role
	ON CONFLICT (account_id, role) DO UPDATE SET at = MAX(at, excluded.at)`}},
}

// sqliteIndexes returns the name and the CREATE statement of the explicit
// indexes of the tables (not those of their primary keys and UNIQUE
// constraints, which SQLite made itself and keeps).
func sqliteIndexes(ctx context.Context, tx *sql.Tx, tables []string) ([][2]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql, tbl_name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var name, text, tbl string
		if err := rows.Scan(&name, &text, &tbl); err != nil {
			return nil, err
		}
		for _, t := range tables {
			if t == tbl {
				out = append(out, [2]string{name, text})
			}
		}
	}
	return out, rows.Err()
}

// sqliteInsert writes the table's rows sqliteBatch at a time, through one
// prepared multi-row INSERT (and one for the last, shorter batch), the
// next batch made while this one is written.
func sqliteInsert(ctx context.Context, tx *sql.Tx, t table) error {
	insert := func(n int) string {
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.cols)), ",") + ")"
		return "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(row+",", n), ",")
	}
	full, err := tx.PrepareContext(ctx, insert(sqliteBatch))
	if err != nil {
		return err
	}
	defer full.Close()
	rows, stop := batches(t, sqliteBatch, sqliteValue)
	defer stop()
	for args := range rows {
		if len(args) == sqliteBatch*len(t.cols) {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(len(args)/len(t.cols)), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sqliteValue is x as the service's SQLite tables hold it: IDs as text,
// flags as integers.
func sqliteValue(x any) any {
	switch v := x.(type) {
	case interface{ String() string }:
		return v.String()
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	}
	return x
}
