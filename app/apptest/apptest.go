package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/internal/servicetest"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
	"github.com/equipe-dev/equipe/webhook"
)

// FastParams make password hashing cheap in tests. The argon2id code path
// is the same; only its cost differs.
var FastParams = identity.Params{Memory: 256, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// Env is a running service.
type Env struct {
	URL string // http://127.0.0.1:port
	// Origin is the public URL's origin: what a browser sends in the Origin
	// header of a request made by a page of the service.
	Origin string
	App    *app.App
	Engine store.Engine
	// DB is the database's configuration, for storetest.Raw.
	DB    store.Config
	logs  *syncBuffer
	proxy *storetest.Proxy // between the service and PostgreSQL (Options.CuttableDatabase)
	// worked fires after each round of the mail worker and each pass of
	// the password-reset handler: what Mail, Delivered and ResetsHandled
	// wait for changes only then.
	worked *testenv.Signal
	heard  *heardKeys
	drift  *driftLog
	stop   func() error // Stop
}

// driftLog keeps the departures from the OpenAPI document that the
// service's clients met, reported when the test ends.
type driftLog struct {
	mu   sync.Mutex
	errs []error
}

func (d *driftLog) add(err error) {
	d.mu.Lock()
	d.errs = append(d.errs, err)
	d.mu.Unlock()
}

// heardKeys counts the change keys the service's hooks heard: its own
// changes, and on PostgreSQL the other processes' and the listener's
// AllKey.
type heardKeys struct {
	mu     sync.Mutex
	counts map[string]int
	signal testenv.Signal
}

func (h *heardKeys) hear(keys []string) {
	h.mu.Lock()
	for _, k := range keys {
		h.counts[k]++
	}
	h.mu.Unlock()
	h.signal.Notify()
}

func (h *heardKeys) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[key]
}

// Heard returns how many times the service has heard the change key (see
// store.MemberKey, store.AllKey): the service's caches have forgotten what
// it names that many times.
func (e *Env) Heard(key string) int { return e.heard.count(key) }

// AwaitHeard waits until the service has heard the change key more than
// after times: a change made through another process sharing its
// PostgreSQL database has reached it, or its listener forgot everything
// (store.AllKey: it lost its connection, or made a new one).
func (e *Env) AwaitHeard(t testing.TB, key string, after int) {
	t.Helper()
	testenv.Await(t, 15*time.Second, e.heard.signal.Wait, fmt.Sprintf("the change %s heard more than %d times", key, after),
		func() bool { return e.heard.count(key) > after })
}

// Options adjust the service under test.
type Options struct {
	Params identity.Params // default FastParams
	Now    func() time.Time
	// Configure changes the configuration before the service is built.
	Configure func(*app.Config)
	// Share runs this service on the database of another, as a second
	// process of one deployment would.
	Share *Env
	// CuttableDatabase readies the service for tests of a database outage
	// (Env.CutDatabase): on PostgreSQL, it reaches the server through a TCP
	// proxy on 127.0.0.1 that the test can cut.
	CuttableDatabase bool
}

// Start runs the service on a fresh database of engine e until the test ends.
func Start(t testing.TB, e store.Engine, opt Options) *Env {
	t.Helper()
	var dbc store.Config
	if opt.Share != nil {
		dbc = opt.Share.DB
	} else {
		dbc = storetest.Config(t, e)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	pu, _ := url.Parse(base)
	cfg := app.Config{
		Addr: l.Addr().String(), DataDir: dbc.DataDir, DatabaseURL: dbc.URL, PublicURL: pu,
		MailFrom: "equipe <no-reply@equipe.test>",
		Policy: equipe.PrivacyPolicy{Version: "2026-11",
			Texts: map[string]string{"fr": "Politique de test.", "en": "Test policy."}},
	}
	var proxy *storetest.Proxy
	if opt.CuttableDatabase && e == store.Postgres {
		proxy = storetest.NewProxy(t, dbc.URL)
		cfg.DatabaseURL = proxy.URL(dbc.URL)
	}
	// Each service has a secret key of its own, but a second process of a
	// deployment shares the first one's, as it must.
	if opt.Share != nil {
		cfg.SecretKey = opt.Share.App.Config.SecretKey
	} else {
		cfg.SecretKey = make([]byte, identity.KeySize)
		rand.Read(cfg.SecretKey)
	}
	if opt.Configure != nil {
		opt.Configure(&cfg)
	}
	if opt.Params == (identity.Params{}) {
		opt.Params = FastParams
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	worked := &testenv.Signal{}
	a, err := app.New(ctx, cfg, log, app.Options{Params: opt.Params, Now: opt.Now, Worker: func(w *mail.Worker) {
		w.Poll = 50 * time.Millisecond
		w.BaseDelay = 50 * time.Millisecond
		w.MaxDelay = 200 * time.Millisecond
		w.OnRound = worked.Notify
	}, Webhooks: func(w *webhook.Worker) {
		w.Poll = 50 * time.Millisecond
		w.OnRound = worked.Notify
	}, Logouts: func(l *openid.Logouts) {
		l.Poll = 50 * time.Millisecond
		l.OnRound = worked.Notify
	}})
	if err != nil {
		cancel()
		l.Close()
		t.Fatalf("start: %v", err)
	}
	a.Identity.ResetsSwept = worked.Notify
	a.Team.ImportsRan = worked.Notify
	heard := &heardKeys{counts: map[string]int{}}
	a.DB.OnChange(heard.hear)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, l) }()
	var once sync.Once
	var served error
	var told atomic.Bool // Stop gave the test what Serve returned
	stop := func() error {
		once.Do(func() {
			cancel()
			served = <-done
		})
		return served
	}
	t.Cleanup(func() {
		if err := stop(); err != nil && !errors.Is(err, context.Canceled) && !told.Load() {
			t.Errorf("serve: %v", err)
		}
	})
	env := &Env{URL: base, Origin: httpauth.OriginOf(cfg.PublicURL), App: a, Engine: e, DB: dbc, logs: logs, proxy: proxy,
		worked: worked, heard: heard, stop: func() error { told.Store(true); return stop() }}
	if e == store.Postgres {
		// The change listener forgets everything once it has connected
		// (store.AllKey). Until then a change another process makes is
		// not heard: a test that changes something through a second
		// process right away would race it.
		env.AwaitHeard(t, store.AllKey(), 0)
	}
	drift := &driftLog{}
	env.drift = drift
	t.Cleanup(func() {
		drift.mu.Lock()
		defer drift.mu.Unlock()
		for _, err := range drift.errs {
			t.Errorf("%v", err)
		}
	})
	return env
}

// CutDatabase makes the service's database really fail, for tests of an
// outage; the service must have been started with
// Options.CuttableDatabase.
//
// On PostgreSQL the proxy between the service and the server is cut: every
// connection breaks (the pool's and the change listener's) and new ones are
// refused, as during a network outage or a restart of the server.
//
// A SQLite database is a file the process opens itself: there is no server
// to stop and no network to cut, and the store stops answering only when
// its handle is closed. That is what requests still running at shutdown
// meet (Serve closes the database once the grace period is over), and what
// this does: it closes the very store.DB the service uses, so that every
// query really fails inside database/sql and the driver. Nothing reopens
// it: RestoreDatabase is for PostgreSQL only.
func (e *Env) CutDatabase(t testing.TB) {
	t.Helper()
	switch {
	case e.Engine == store.SQLite:
		if err := e.App.DB.Close(); err != nil {
			t.Fatalf("close the database: %v", err)
		}
	case e.proxy != nil:
		e.proxy.Cut()
	default:
		t.Fatal("CutDatabase: start the service with Options.CuttableDatabase")
	}
}

// RestoreDatabase makes a PostgreSQL database that CutDatabase cut reachable
// again. The service reconnects by itself.
func (e *Env) RestoreDatabase(t testing.TB) {
	t.Helper()
	if e.proxy == nil {
		t.Fatal("RestoreDatabase: only a PostgreSQL database behind the proxy of Options.CuttableDatabase comes back")
	}
	e.proxy.Restore(t)
}

// Stop shuts the service down as a SIGTERM would, waits for Serve to
// return and returns its error, which is then the test's to judge; the
// test's end stops nothing more.
func (e *Env) Stop() error { return e.stop() }

// Logs returns everything the service logged so far.
func (e *Env) Logs() string { return e.logs.String() }

// Client returns an HTTP client with a cookie jar of its own that does not
// follow redirects (tests look at them). Like a browser on the service's
// pages, it sends the service's Origin with every request that may change
// something and carries cookies, unless the request sets Origin or
// Sec-Fetch-Site itself: the service refuses such requests made with a
// session cookie and no sign of their origin. A request without cookies is
// sent as it is, as a program other than a browser would. Its exchanges
// with the API are checked against the OpenAPI document (see Transport).
func (e *Env) Client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: e.Transport(browserOrigin{e.Origin}),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Transport returns a RoundTripper that sends requests through next
// (http.DefaultTransport when nil) and checks every exchange with the API
// against the OpenAPI document the service serves: an answer the document
// does not declare (status, body, headers), or a request the server
// accepted that the document refuses, fails the request with the method,
// path, status and what differs, and fails the test when it ends. Tests
// that make clients of their own use it, so that every API test proves the
// document.
func (e *Env) Transport(next http.RoundTripper) http.RoundTripper {
	return Checking(func() (*Contract, error) { return ServedContract(e.URL) }, next, e.drift.add)
}

// browserOrigin adds the Origin header a browser would send (see Env.Client).
type browserOrigin struct{ origin string }

func (b browserOrigin) RoundTrip(r *http.Request) (*http.Response, error) {
	_, origin := r.Header["Origin"]
	_, site := r.Header["Sec-Fetch-Site"]
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !origin && !site && r.Header.Get("Cookie") != "" {
			// A RoundTripper must not change the request it is given.
			r = r.Clone(r.Context())
			r.Header.Set("Origin", b.origin)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Mail waits until the development mailbox holds an email to `to` made from
// template, and returns the newest such.
func (e *Env) Mail(t testing.TB, to, template string) mail.DevMessage {
	t.Helper()
	return e.MailFromAny(t, to, template)
}

// MailFromAny is Mail for a deployment of several processes: e, which
// queued the email, and the others sharing its database (Options.Share).
// The outbox is one, and the worker of whichever process looks first sends
// what any of them queued; the email was composed by the process that
// queued it all the same.
func (e *Env) MailFromAny(t testing.TB, to, template string, others ...*Env) mail.DevMessage {
	t.Helper()
	var found mail.DevMessage
	testenv.Await(t, 10*time.Second, e.worked.Wait, "a "+template+" email to "+to, func() bool {
		for _, env := range append([]*Env{e}, others...) {
			for _, m := range env.App.Mailbox.Messages() {
				if m.Template == template && len(m.To) == 1 && strings.EqualFold(m.To[0], to) {
					found = m
					return true
				}
			}
		}
		return false
	})
	return found
}

// NoServerError sends req (over the default client: whatever it carries is
// its own) and fails the test if it is answered with a server error, 5xx:
// bad input must get a client error. what names the request in the failure.
func NoServerError(t testing.TB, req *http.Request, what string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode >= 500 {
		t.Errorf("%s: %d %.300s", what, res.StatusCode, b)
	}
}

// AwaitWork waits until cond holds, looking again after each round of the
// service's workers (email and webhooks): what names what is awaited.
func (e *Env) AwaitWork(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testenv.Await(t, 15*time.Second, e.worked.Wait, what, cond)
}

// Delivered waits until the outbox holds no email still to be sent, so that
// a snapshot of the database taken afterwards is not changed by delivery.
func (e *Env) Delivered(t testing.TB) {
	t.Helper()
	db := storetest.Raw(t, e.DB)
	testenv.Await(t, 10*time.Second, e.worked.Wait, "an outbox with nothing left to send", func() bool {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM outbox WHERE status IN ('queued', 'processing')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// ResetsHandled waits until no password-reset request waits in the queue:
// every request made so far has been looked up, and its email, if any, is
// in the outbox.
func (e *Env) ResetsHandled(t testing.TB) {
	t.Helper()
	testenv.Await(t, 10*time.Second, e.worked.Wait, "no password-reset request waiting", func() bool {
		n, err := e.App.DB.CountResetRequests(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// Outbox returns the recipients of the outbox's emails of template (every
// template when empty), oldest first: what the service decided to send,
// delivered or not.
func (e *Env) Outbox(t testing.TB, template string) []string {
	t.Helper()
	rows, err := storetest.Raw(t, e.DB).Query(`SELECT recipient, template FROM outbox ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var to, tmpl string
		if err := rows.Scan(&to, &tmpl); err != nil {
			t.Fatal(err)
		}
		if template == "" || tmpl == template {
			out = append(out, to)
		}
	}
	return out
}

// ConfirmAddress marks the user's login email confirmed, as following the
// emailed verification link does: setup for what needs a confirmed address
// (making API keys), where the link itself is not what is tested.
func (e *Env) ConfirmAddress(t testing.TB, email string) {
	t.Helper()
	u, err := e.App.DB.UserByEmailKey(t.Context(), strings.ToLower(email))
	if err == nil {
		err = e.App.DB.Write(t.Context(), func(tx *store.Tx) error { return tx.MarkEmailVerified(t.Context(), u.ID, time.Now()) })
	}
	if err != nil {
		t.Fatal(err)
	}
}

// Mails returns how many emails to `to` made from template the mailbox holds.
func (e *Env) Mails(to, template string) int {
	n := 0
	for _, m := range e.App.Mailbox.Messages() {
		if m.Template == template && len(m.To) == 1 && strings.EqualFold(m.To[0], to) {
			n++
		}
	}
	return n
}

// Link returns the first link of m under path (for example "/verify-email/").
func Link(t testing.TB, m mail.DevMessage, path string) string {
	t.Helper()
	for _, l := range m.Links {
		if u, err := url.Parse(l); err == nil && strings.HasPrefix(u.Path, path) {
			return l
		}
	}
	t.Fatalf("no %s link in %q (links %v)", path, m.Subject, m.Links)
	return ""
}

// Secret returns the last path segment of a link: the one-time secret.
func Secret(link string) string {
	return link[strings.LastIndexByte(link, '/')+1:]
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Clock is a settable clock for tests of expiry.
type Clock = servicetest.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return servicetest.NewClock(t) }

// Member is a user made a member of an account directly in the store, with
// a session: what the team-management pages would otherwise set up.
type Member struct {
	User  equipe.User
	Token string // a session secret (the privacy policy accepted)
}

// AddMember creates a user with a password and makes them a member of the
// account with role and status, then logs them in (for active members) and
// accepts the privacy policy for them.
func (e *Env) AddMember(t testing.TB, account equipe.ID, email, role string, status equipe.MemberStatus) Member {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	// An established member: their address is confirmed.
	u := equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: strings.ToLower(email), FirstName: "Test",
		LastName: strings.Split(email, "@")[0], Locale: "en", PasswordHash: e.App.Identity.Hasher.Hash(TestPassword),
		EmailVerifiedAt: now, CreatedAt: now}
	err := e.App.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		return tx.CreateMember(ctx, &equipe.Member{AccountID: account, UserID: u.ID, Role: role, Status: status,
			CreatedAt: now, JoinedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	auth, token, err := e.App.Identity.LogIn(ctx, email, TestPassword, equipe.Origin{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.App.Identity.CurrentPolicy(ctx)
	if err := e.App.Identity.AcceptPolicy(ctx, auth.User.ID, p.Version, equipe.Origin{IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	// The login's entry into the account is written after its answer:
	// the member is returned once it has been.
	e.App.DB.WaitDetached()
	return Member{User: u, Token: token}
}

// TestPassword is the password of the users AddMember creates.
const TestPassword = "a sentence nobody would guess"
