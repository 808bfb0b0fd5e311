package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/equipe-dev/equipe/store"
)

// buildEquipe builds the equipe command into dir and returns its path.
func buildEquipe(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "equipe")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/equipe-dev/equipe/cmd/equipe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// logKept is about how much of the service's log a child keeps.
const logKept = 16 << 10

// child is an "equipe serve" process on the seeded database.
type child struct {
	cmd  *exec.Cmd
	addr string
	log  bytes.Buffer // its standard error, whole once stop returns
	mu   sync.Mutex   // guards log while the process runs
	done chan struct{}
	err  error // how it exited, once done is closed
}

// startChild starts bin serve on the database of cfg, listening on a
// loopback port of its choosing, with a cache budget of cacheMB (0: the
// service's default), and waits until it answers /readyz.
func startChild(ctx context.Context, bin string, cfg store.Config, cacheMB int) (*child, error) {
	c := &child{cmd: exec.Command(bin, "serve"), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), "EQUIPE_DATABASE_URL="+cfg.URL, "EQUIPE_DATA="+cfg.DataDir,
		"EQUIPE_ADDR=127.0.0.1:0", "EQUIPE_LOG_FORMAT=json")
	if cacheMB > 0 {
		c.cmd.Env = append(c.cmd.Env, "EQUIPE_CACHE_MB="+strconv.Itoa(cacheMB))
	}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			// The last lines are kept, enough to tell why it failed.
			if c.log.Len() > logKept {
				tail := append([]byte(nil), c.log.Bytes()[c.log.Len()-logKept/2:]...)
				c.log.Reset()
				c.log.Write(tail)
			}
			c.log.Write(sc.Bytes())
			c.log.WriteByte('\n')
			c.mu.Unlock()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				select {
				case addr <- line.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	select {
	case c.addr = <-addr:
	case <-c.done:
		return nil, fmt.Errorf("equipe serve exited before serving: %v\n%s", c.err, c.logText())
	case <-time.After(60 * time.Second):
		c.stop()
		return nil, fmt.Errorf("equipe serve did not serve within 60 s\n%s", c.logText())
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
	if err := waitReady(ctx, "http://"+c.addr, 30*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("%w\n%s", err, c.logText())
	}
	return c, nil
}

func (c *child) logText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// stop sends SIGTERM to the process, by its PID, and waits for it to exit,
// killing it after 30 seconds.
func (c *child) stop() error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	return c.err
}

// rssKB returns the process's resident set (VmRSS) in KiB.
func (c *child) rssKB() (int, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
		}
	}
	return 0, errors.New("no VmRSS in /proc/PID/status")
}

// sampleRSS reads the process's RSS every interval until stop is closed,
// and returns the largest it read and the last.
func (c *child) sampleRSS(interval time.Duration, stop <-chan struct{}) (peak, last int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if kb, err := c.rssKB(); err == nil {
			peak, last = max(peak, kb), kb
		}
		select {
		case <-stop:
			if kb, err := c.rssKB(); err == nil {
				peak, last = max(peak, kb), kb
			}
			return peak, last
		case <-t.C:
		}
	}
}

// waitReady asks base/readyz until it answers 200, or timeout passes.
func waitReady(ctx context.Context, base string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var last error
	for {
		res, err := client.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/readyz: %v", base, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
