package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/testenv"
	"github.com/equipe-dev/equipe/mail/mailtest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// testLease is the lease of the workers of these tests: short, so that a
// dead worker's claim lapses quickly, yet four renewals long.
const testLease = time.Second

// childWorkerEnv names the variable that turns the test binary into a
// worker process (see TestWorker_ChildProcess); it holds a childWorker.
const childWorkerEnv = "EQUIPE_TEST_CHILD_WORKER"

// childWorker is what a worker process is told by the test that starts it.
type childWorker struct {
	Store store.Config
	SMTP  string // host:port of a plain SMTP server
	Lease time.Duration
}

// TestWorker_ChildProcess is not a test: it is the body of the worker
// process that TestWorker_ClaimOfAKilledProcessIsDeliveredByAnotherSoon
// starts from the test binary and kills. Run directly, it does nothing.
func TestWorker_ChildProcess(t *testing.T) {
	raw := os.Getenv(childWorkerEnv)
	if raw == "" {
		return
	}
	var cfg childWorker
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	// The parent holds our standard input: should it die, stop too rather
	// than linger.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	db, err := store.Open(context.Background(), cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{DB: db, Sender: plainSender(t, cfg.SMTP), Lease: cfg.Lease, Poll: 10 * time.Millisecond}
	w.Run(context.Background())
}

func TestWorker_ClaimOfAKilledProcessIsDeliveredByAnotherSoon(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		e := compose(t, testTemplates(t, nil), "ada@example.org", "tok-kill")
		enqueue(t, db, time.Now(), e)

		// A worker process claims the email and sends it to a server that
		// holds the DATA phase: the message is out, the reply never comes.
		hold := startHoldingSMTP(t)
		spec, _ := json.Marshal(childWorker{Store: cfg, SMTP: hold.addr, Lease: testLease})
		child := exec.Command(os.Args[0], "-test.run=^TestWorker_ChildProcess$")
		child.Env = append(os.Environ(), childWorkerEnv+"="+string(spec))
		var out bytes.Buffer
		child.Stdout, child.Stderr = &out, &out
		stdin, err := child.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- child.Wait() }()
		select {
		case id := <-hold.held:
			if id != e.MessageID {
				t.Fatalf("the server holds Message-ID %q, want %q", id, e.MessageID)
			}
		case err := <-exited:
			t.Fatalf("the worker process exited (%v) before sending:\n%s", err, out.String())
		case <-time.After(30 * time.Second):
			child.Process.Kill()
			t.Fatalf("the worker process sent nothing in 30 s:\n%s", out.String())
		}
		if got := emailByID(t, db, e.ID); got.Status != equipe.EmailProcessing ||
			!strings.Contains(got.Claim, fmt.Sprintf("/%d/", child.Process.Pid)) {
			t.Fatalf("status %s, claim %q; want processing, claimed by process %d", got.Status, got.Claim, child.Process.Pid)
		}

		// It dies there, as under kill -9. Another worker, as in the
		// restarted process, delivers the email once the lease lapses.
		killed := time.Now()
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-exited
		srv := mailtest.StartSMTP(t)
		var rounds testenv.Signal
		w := &Worker{DB: db, Sender: smtpSender(t, srv), Lease: testLease, Poll: 20 * time.Millisecond, OnRound: rounds.Notify}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.Run(ctx)
		}()
		t.Cleanup(func() { cancel(); <-done })
		testenv.Await(t, 30*time.Second, rounds.Wait, "the email delivered by the restarted worker", func() bool {
			return emailByID(t, db, e.ID).Status == equipe.EmailSent
		})
		t.Logf("delivered %v after the kill, with a lease of %v", time.Since(killed).Round(time.Millisecond), testLease)

		ms := srv.Messages()
		if len(ms) != 1 || ms[0].MessageID != e.MessageID || !strings.Contains(ms[0].Text, "/password-reset/tok-kill") {
			t.Errorf("received %d messages %+v; want one, with Message-ID %q and the original link", len(ms), ms, e.MessageID)
		}
		if got := emailByID(t, db, e.ID); got.Attempts != 2 {
			t.Errorf("attempts %d, want 2: the dead process's and the delivery", got.Attempts)
		}
	})
}

func TestWorker_SendSlowerThanTheLeaseKeepsItsClaim(t *testing.T) {
	storetest.EachConfig(t, func(t *testing.T, db *store.DB, cfg store.Config) {
		// A second worker with a connection pool of its own, as in another
		// process.
		other, err := store.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Close() })
		e := compose(t, testTemplates(t, nil), "ada@example.org", "tok-slow")
		enqueue(t, db, time.Now(), e)

		hold := startHoldingSMTP(t)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		// Whatever happens, the held send ends before the workers are
		// waited for.
		t.Cleanup(func() { hold.release(); cancel(); wg.Wait() })
		var rounds testenv.Signal
		slow := &Worker{DB: db, Sender: plainSender(t, hold.addr), Lease: testLease, Poll: 10 * time.Millisecond,
			OnRound: rounds.Notify}
		wg.Go(func() { slow.Run(ctx) })
		var heldAt time.Time
		select {
		case <-hold.held:
			heldAt = time.Now()
		case <-time.After(30 * time.Second):
			t.Fatal("the email was not sent")
		}
		eager := &Worker{DB: other, Sender: plainSender(t, hold.addr), Lease: testLease, Poll: 10 * time.Millisecond}
		wg.Go(func() { eager.Run(ctx) })

		// The send hangs on. Wait until the lease has been renewed to end
		// three leases after the send began: by then the lease of the claim
		// would have lapsed a whole lease ago, with the other worker looking
		// every 10 ms, had it not been renewed.
		// Renewals come on the worker's own timer: look at the lease as it
		// goes.
		testenv.Await(t, 30*time.Second, testenv.Every(10*time.Millisecond), "a lease renewed three leases ahead", func() bool {
			got := emailByID(t, db, e.ID)
			if got.Status != equipe.EmailProcessing || got.Claim != slow.claim {
				t.Fatalf("while the first send hangs: status %s, claim %q; want processing under %q", got.Status, got.Claim, slow.claim)
			}
			return got.NextAttemptAt.After(heldAt.Add(3 * testLease))
		})

		hold.release()
		testenv.Await(t, 30*time.Second, rounds.Wait, "the held email recorded sent", func() bool {
			return emailByID(t, db, e.ID).Status == equipe.EmailSent
		})
		if n := hold.sends(); n != 1 {
			t.Errorf("the server saw %d sends of the email, want 1", n)
		}
		if got := emailByID(t, db, e.ID); got.Attempts != 1 {
			t.Errorf("attempts %d, want 1: the email was claimed again", got.Attempts)
		}
		if s, _, _ := eager.Stats(); s != 0 {
			t.Errorf("the second worker sent %d emails, want 0", s)
		}
	})
}

// plainSender returns a sender to the plain SMTP server at addr.
func plainSender(t testing.TB, addr string) *SMTPSender {
	t.Helper()
	cfg, err := ParseSMTPURL("smtp://" + addr + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSMTPSender(cfg, "equipe <no-reply@equipe.example.test>")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// holdingSMTP is an SMTP server that reads each message, then holds the
// DATA phase, not replying, until released: a send that hangs at its most
// delicate point, the message out and the verdict not in.
type holdingSMTP struct {
	addr    string
	held    chan string // the Message-ID of each message as its hold begins
	mu      sync.Mutex
	n       int
	freed   chan struct{}
	freeing sync.Once
}

// startHoldingSMTP starts a holding server on loopback; the test's end
// releases what it holds and stops it.
func startHoldingSMTP(t *testing.T) *holdingSMTP {
	t.Helper()
	h := &holdingSMTP{held: make(chan string, 10), freed: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &holdingSession{h: h}, nil }))
	srv.Domain = "holding.localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		h.release()
		srv.Close()
		l.Close()
		<-done
	})
	return h
}

// release lets every hold, present and future, end with the message
// accepted.
func (h *holdingSMTP) release() { h.freeing.Do(func() { close(h.freed) }) }

// sends returns how many messages reached the DATA phase.
func (h *holdingSMTP) sends() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

type holdingSession struct{ h *holdingSMTP }

func (s *holdingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *holdingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *holdingSession) Reset()                               {}
func (s *holdingSession) Logout() error                        { return nil }

func (s *holdingSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	id := ""
	if m, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		id = strings.Trim(strings.TrimSpace(m.Header.Get("Message-Id")), "<>")
	}
	s.h.mu.Lock()
	s.h.n++
	s.h.mu.Unlock()
	select {
	case s.h.held <- id:
	default:
	}
	<-s.h.freed
	return nil
}
