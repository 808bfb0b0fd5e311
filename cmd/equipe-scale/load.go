package main

// The load generator: keep-alive connections, each sending its next check
// as soon as the previous one is answered (a closed loop: the service's
// ceiling), every request formatted before the clock starts its wait.
// Latency runs from the moment a request is written to the last byte of
// its answer.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// checkPerms are the permissions the check mix asks about, those of the
// check benchmarks in api/: granted by some roles, refused by others,
// changed by overrides, scoped to resources or to owners.
var checkPerms = []string{"records.view", "records.edit", "members.view", "records.export", "members.manage",
	"records.bulk_delete", "contacts.manage", "billing.access"}

// mixer makes the check mix over a working set of distinct (user, account)
// pairs: the i-th check asks about pair i mod pairs, the pairs scattered
// over the whole population (a stride coprime with it), one check in 64
// about someone who is no member, a third about a resource, three
// quarters with a record's owner (none, the member, another member).
type mixer struct {
	d      dataset
	pairs  int
	stride int
}

func newMixer(d dataset, pairs int) mixer {
	stride := 7919
	for gcd(stride, d.Users()) != 1 {
		stride += 2
	}
	return mixer{d: d, pairs: min(pairs, d.Users()), stride: stride}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// member returns the user and account of check i.
func (m mixer) member(i int) (user, account int) {
	u := (i % m.pairs) * m.stride % m.d.Users()
	return u, u / m.d.PerAccount
}

// body appends the JSON of check i to b.
func (m mixer) body(b []byte, i int) []byte {
	u, a := m.member(i)
	user := m.d.UserID(u).String()
	if i%64 == 63 {
		user = m.d.StrangerID(i % m.pairs).String()
	}
	b = append(b, `{"user_id":"`...)
	b = append(b, user...)
	b = append(b, `","account_id":"`...)
	b = append(b, m.d.AccountID(a).String()...)
	b = append(b, `","permission":"`...)
	b = append(b, checkPerms[i%len(checkPerms)]...)
	b = append(b, '"')
	if i%3 == 0 && m.d.Resources > 0 {
		b = append(b, `,"resource_id":"`...)
		b = append(b, m.d.ResourceID(a, (i*31)%m.d.Resources).String()...)
		b = append(b, '"')
	}
	switch i % 4 {
	case 1:
		b = append(b, `,"owner_id":null`...)
	case 2:
		b = append(b, `,"owner_id":"`...)
		b = append(b, user...)
		b = append(b, '"')
	case 3:
		b = append(b, `,"owner_id":"`...)
		b = append(b, m.d.UserID(a*m.d.PerAccount+(u+i)%m.d.PerAccount).String()...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// request appends the whole HTTP request of check i to b.
func (m mixer) request(b []byte, host, key string, i int) []byte {
	var body [400]byte
	js := m.body(body[:0], i)
	b = append(b, "POST /api/v1/check HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nContent-Type: application/json\r\nAuthorization: Bearer "...)
	b = append(b, key...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(js)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, js...)
}

// loadResult is what one run measured.
type loadResult struct {
	Checks  int // answered with 200
	Allowed int // of which allowed
	Errors  int // other statuses, broken connections
	Rate    float64
	P50     time.Duration
	P99     time.Duration
}

// generator sends the mix to the service at addr over conns keep-alive
// connections; connection k sends checks k, k+conns, k+2·conns… from
// where its previous run stopped.
type generator struct {
	addr, key string
	mix       mixer
	conns     []net.Conn
	readers   []*bufio.Reader
	next      []int
}

func newGenerator(addr, key string, mix mixer, conns int) (*generator, error) {
	g := &generator{addr: addr, key: key, mix: mix}
	for k := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			g.close()
			return nil, err
		}
		g.conns = append(g.conns, c)
		g.readers = append(g.readers, bufio.NewReaderSize(c, 16<<10))
		g.next = append(g.next, k)
	}
	return g, nil
}

func (g *generator) close() {
	for _, c := range g.conns {
		c.Close()
	}
}

// run sends checks for d and returns what it measured.
func (g *generator) run(d time.Duration) (loadResult, error) { return g.runUntil(d, -1) }

// runUntil is run, stopping sooner once every connection has reached
// check until (-1: never).
func (g *generator) runUntil(d time.Duration, until int) (loadResult, error) {
	n := len(g.conns)
	lat := make([][]time.Duration, n)
	allowed, errs := make([]int, n), make([]int, n)
	var broken error
	var refused string // the first answer other than 200
	var mu sync.Mutex
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			c, rd := g.conns[k], g.readers[k]
			var req, body []byte
			for time.Now().Before(end) && (until < 0 || g.next[k] < until) {
				req = g.mix.request(req[:0], g.addr, g.key, g.next[k])
				g.next[k] += n
				t := time.Now()
				if _, err := c.Write(req); err != nil {
					mu.Lock()
					broken = err
					mu.Unlock()
					errs[k]++
					return
				}
				var status int
				var err error
				status, body, err = readAnswer(rd, body[:0])
				if err != nil {
					mu.Lock()
					broken = err
					mu.Unlock()
					errs[k]++
					return
				}
				if status != 200 {
					mu.Lock()
					if refused == "" {
						refused = fmt.Sprintf("%d %s", status, body)
					}
					mu.Unlock()
					errs[k]++
					continue
				}
				lat[k] = append(lat[k], time.Since(t))
				if bytes.Contains(body, []byte(`"allowed":true`)) {
					allowed[k]++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var r loadResult
	var all []time.Duration
	for k := range n {
		all = append(all, lat[k]...)
		r.Allowed += allowed[k]
		r.Errors += errs[k]
	}
	if broken != nil {
		return r, fmt.Errorf("connection broken: %w", broken)
	}
	if refused != "" {
		return r, fmt.Errorf("%d checks answered other than 200, the first: %s", r.Errors, refused)
	}
	if len(all) == 0 {
		return r, errors.New("no check answered")
	}
	slices.Sort(all)
	r.Checks = len(all)
	r.Rate = float64(len(all)) / elapsed.Seconds()
	r.P50 = all[len(all)/2]
	r.P99 = all[min(len(all)-1, len(all)*99/100)]
	return r, nil
}

// readAnswer reads one HTTP/1.1 answer with a Content-Length, appending
// its body to body, and returns its status.
func readAnswer(rd *bufio.Reader, body []byte) (int, []byte, error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		return 0, body, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, body, fmt.Errorf("status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, body, err
	}
	length := -1
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			return 0, body, err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, body, err
			}
		}
	}
	if length < 0 {
		return 0, body, errors.New("answer without Content-Length")
	}
	body = slices.Grow(body, length)[:len(body)+length]
	_, err = io.ReadFull(rd, body[len(body)-length:])
	return status, body, err
}
