package storetest

import (
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 that a test puts between a service and
// PostgreSQL to make the database really unreachable and reachable again,
// as a network fault or a restart of the database server would: no driver
// or database is faked, the service's connections really break.
type Proxy struct {
	target string // host:port of PostgreSQL
	addr   string // 127.0.0.1:port, the same across cuts

	mu     sync.Mutex
	l      net.Listener // nil while cut
	conns  map[net.Conn]struct{}
	frozen chan struct{} // non-nil while frozen: closed to thaw
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to the PostgreSQL server of url (a
// postgres:// URL), closed when the test ends.
func NewProxy(t testing.TB, rawURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{target: target, addr: l.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(l)
	t.Cleanup(func() {
		p.Thaw()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// URL returns rawURL with its host replaced by the proxy's address.
func (p *Proxy) URL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	u.Host = p.addr
	return u.String()
}

// Cut makes the database unreachable: it closes the listener, so that new
// connections are refused, and every connection it carries, so that those
// in use fail at once.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore listens again on the same address after Cut.
func (p *Proxy) Restore(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		return
	}
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(l)
}

// Freeze stops carrying bytes while keeping every connection open, as a
// network that silently drops packets or a database server that hangs
// would: nothing fails, nothing answers.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
}

// Thaw carries bytes again after Freeze, those held meanwhile first.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
}

// serve accepts on l until it is closed. p.mu is held or p not yet shared.
func (p *Proxy) serve(l net.Listener) {
	p.l = l
	p.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.pipe(l, c) })
		}
	})
}

// pipe carries one connection accepted on l to the server and back.
func (p *Proxy) pipe(l net.Listener, client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if p.l != l {
		// Cut while connecting: this connection must fail too.
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { p.copy(server, client) })
	wg.Go(func() { p.copy(client, server) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// copy carries bytes from src to dst, holding them while the proxy is
// frozen, and closes both when either side ends.
func (p *Proxy) copy(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			frozen := p.frozen
			p.mu.Unlock()
			if frozen != nil {
				<-frozen
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
