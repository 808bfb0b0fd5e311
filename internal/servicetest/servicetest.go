package servicetest

import (
	"crypto/rand"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/work"
)

// FastParams make password hashing cheap in tests. The argon2id code path
// is the same; only its cost differs.
var FastParams = identity.Params{Memory: 256, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// PublicURL is the public URL links in the tests' emails start with.
const PublicURL = "http://127.0.0.1:8080"

// Clock is a clock a test sets and moves.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set stops the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Stack is the use cases on one database.
type Stack struct {
	DB        *store.DB
	Work      *work.Runner
	Identity  *identity.Service
	Team      *team.Service
	Catalogue *access.Catalogue
	Clock     *Clock
}

// New assembles the use cases on db with the default catalogue and
// password-hash parameters p (FastParams when zero).
func New(t testing.TB, db *store.DB, p identity.Params) *Stack {
	t.Helper()
	if p == (identity.Params{}) {
		p = FastParams
	}
	pu, _ := url.Parse(PublicURL)
	tmpl, err := mail.NewTemplates(pu, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := NewClock(time.Now().UTC().Truncate(time.Microsecond))
	tmpl.Now = clk.Now
	w := &work.Runner{DB: db, Mail: tmpl, PublicURL: pu, Clock: clk.Now, Rand: rand.Reader}
	cat := access.Default()
	id := identity.New(w, identity.NewHasher(p), identity.Config{})
	return &Stack{DB: db, Work: w, Identity: id, Team: team.New(w, cat, id.Config.LinkValidity), Catalogue: cat, Clock: clk}
}
