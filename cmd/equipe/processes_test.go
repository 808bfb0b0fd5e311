package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestProcesses_StartedTogetherOnAFreshDatabaseAllSucceed starts the real
// binary several times at once on an empty database, as a deployment that
// launches all its processes together does: five "equipe migrate" must all
// succeed, one applying every migration and the others finding nothing to
// do; three "equipe serve" must all become ready and stop cleanly on
// SIGTERM. Each case runs a few rounds, each on a fresh database, on SQLite
// (several processes on one data directory) and on PostgreSQL.
func TestProcesses_StartedTogetherOnAFreshDatabaseAllSucceed(t *testing.T) {
	bin := buildEquipe(t)
	const rounds = 3
	for _, engine := range storetest.Engines() {
		t.Run("migrate/"+string(engine), func(t *testing.T) {
			ms, err := store.Migrations(engine)
			if err != nil {
				t.Fatal(err)
			}
			for round := range rounds {
				cfg := storetest.Config(t, engine)
				outs := make([]string, 5)
				errs := make([]error, len(outs))
				var wg sync.WaitGroup
				for i := range outs {
					wg.Go(func() {
						cmd := exec.Command(bin, "migrate")
						cmd.Env = processEnv(cfg)
						out, err := cmd.CombinedOutput()
						outs[i], errs[i] = string(out), err
					})
				}
				wg.Wait()
				total := 0
				for i, out := range outs {
					var version, applied int
					if errs[i] != nil {
						t.Errorf("round %d: migrate %d: %v\n%s", round, i, errs[i], out)
						continue
					}
					last := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
					if _, err := fmt.Sscanf(last, "schema at version %d (%d applied now)", &version, &applied); err != nil ||
						version != len(ms) || (applied != 0 && applied != len(ms)) {
						t.Errorf("round %d: migrate %d printed %q; want version %d, with all or none applied", round, i, out, len(ms))
					}
					total += applied
				}
				if total != len(ms) {
					t.Errorf("round %d: the processes applied %d migrations in all, want each of the %d once", round, total, len(ms))
				}
				storetest.AssertMigratedOnce(t, cfg)
			}
		})
	}
	for _, engine := range storetest.Engines() {
		t.Run("serve/"+string(engine), func(t *testing.T) {
			for round := range rounds {
				cfg := storetest.Config(t, engine)
				procs := make([]*serveProcess, 3)
				for i := range procs {
					procs[i] = startServe(t, bin, cfg)
				}
				notReady := make([]error, len(procs))
				for i, p := range procs {
					notReady[i] = p.ready(20 * time.Second)
				}
				for i, p := range procs {
					log := p.stop()
					switch {
					case notReady[i] != nil:
						t.Errorf("round %d: serve %d: %v (exit: %v)\n%s", round, i, notReady[i], p.err, log)
					case p.err != nil:
						t.Errorf("round %d: serve %d after SIGTERM: %v\n%s", round, i, p.err, log)
					}
				}
				storetest.AssertMigratedOnce(t, cfg)
			}
		})
	}
}

// processEnv returns the environment of an equipe process on the database
// of cfg, logging JSON; an empty database URL selects SQLite whatever the
// test's own environment holds.
func processEnv(cfg store.Config) []string {
	return append(os.Environ(), "EQUIPE_DATABASE_URL="+cfg.URL, "EQUIPE_DATA="+cfg.DataDir, "EQUIPE_LOG_FORMAT=json",
		"EQUIPE_ADDR=127.0.0.1:0")
}

// serveProcess is an "equipe serve" process started by a test.
type serveProcess struct {
	cmd    *exec.Cmd
	addr   <-chan string
	logged <-chan struct{}
	log    strings.Builder // its standard error, complete once stop returns
	err    error           // how it exited, once stop returns
	once   sync.Once
}

// startServe starts "equipe serve" on the database of cfg, listening on a
// loopback port of its choosing; the test's end stops it if the test has
// not.
func startServe(t *testing.T, bin string, cfg store.Config) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(bin, "serve")}
	p.cmd.Env = processEnv(cfg)
	pr, pw := io.Pipe()
	p.cmd.Stderr = pw
	p.addr, p.logged = servingAddr(pr, &p.log)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		pw.Close()
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// ready waits for the process to log the address it serves on, then for
// its /readyz to answer 200.
func (p *serveProcess) ready(timeout time.Duration) error {
	select {
	case addr := <-p.addr:
		return waitReady("http://"+addr, timeout)
	case <-p.logged:
		return fmt.Errorf("exited before serving")
	case <-time.After(timeout):
		return fmt.Errorf("did not log its address within %v", timeout)
	}
}

// stop sends SIGTERM to the process, by its PID, waits for it to exit
// (killing it after 30 seconds) and returns its log.
func (p *serveProcess) stop() string {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.logged:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.logged
		}
	})
	return p.log.String()
}
