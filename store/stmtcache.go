package store

import (
	"context"
	"database/sql"
	"sync"
)

// SQLite parses every statement it runs; preparing the service's few
// statement texts once per connection and reusing them saves that work on
// every request. PostgreSQL needs none of this: pgx caches prepared
// statements per connection itself.

// maxCachedStmts bounds the cache: statement texts are constants of the
// code, but a query built from optional filters has a text per combination.
const maxCachedStmts = 512

type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// pending holds texts met inside a transaction: the writer's only
	// connection is busy then, so they are prepared after the commit.
	pending map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the prepared statement for query if there is one, and
// otherwise notes query to be prepared by flush.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s
	}
	if len(c.m)+len(c.pending) < maxCachedStmts {
		c.pending[query] = true
	}
	return nil
}

// flush prepares the statements noted by lookup. It must run outside any
// transaction of the pool.
func (c *stmtCache) flush(ctx context.Context) {
	c.mu.Lock()
	var texts []string
	for q := range c.pending {
		texts = append(texts, q)
		delete(c.pending, q)
	}
	c.mu.Unlock()
	// Preparing waits for the connection, which a transaction may hold: the
	// lock is not held meanwhile, or that transaction could not look up its
	// statements and finish.
	for _, q := range texts {
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, dup := c.m[q]; dup {
			s.Close()
		} else {
			c.m[q] = s
		}
		c.mu.Unlock()
	}
}

// get returns the prepared statement for query, preparing it on the pool
// if needed, or nil when the cache is full (the caller then runs the text as
// is). Only for pools whose connections are never all held by transactions.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := c.lookup(query); s != nil {
		return s, nil
	}
	c.flush(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query], nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// cachedDB runs reads on a pool through prepared statements.
type cachedDB struct {
	db    *sql.DB
	cache *stmtCache
}

func (c cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := c.cache.get(ctx, query)
	if err != nil || s == nil {
		return c.db.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

func (c cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := c.cache.get(ctx, query)
	if err != nil || s == nil {
		return c.db.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (c cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := c.cache.get(ctx, query)
	if err != nil || s == nil {
		return c.db.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// cachedTx runs a transaction's statements through the writer's prepared
// statements. The writer has one connection, so each is prepared there once.
type cachedTx struct {
	tx    *sql.Tx
	cache *stmtCache
}

func (c cachedTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if s := c.cache.lookup(query); s != nil {
		return c.tx.StmtContext(ctx, s)
	}
	return nil
}

func (c cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := c.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return c.tx.ExecContext(ctx, query, args...)
}

func (c cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := c.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return c.tx.QueryContext(ctx, query, args...)
}

func (c cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := c.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, query, args...)
}
