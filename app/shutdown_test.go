package app_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
)

// TestServe_AShutdownThatTimesOutSaysSo stops the service while a request
// is still sending its body: once the grace period is over, Serve says the
// shutdown timed out and the request was cut off, not "context deadline
// exceeded".
func TestServe_AShutdownThatTimesOutSaysSo(t *testing.T) {
	app.SetShutdownGrace(t, 200*time.Millisecond)
	env := apptest.Start(t, store.SQLite, apptest.Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The body promised never comes: the handler waits for it. It asks
	// for it (100 Continue) once it reads it, so it is running.
	host := strings.TrimPrefix(env.URL, "http://")
	if _, err := conn.Write([]byte("POST /api/v1/session HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n" +
		"Content-Length: 100\r\nExpect: 100-continue\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("the handler did not ask for the body: %q %v", line, err)
	}
	r.ReadString('\n')
	if _, err := conn.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}
	err = env.Stop()
	if err == nil || err.Error() != "shutdown timed out after 200ms: the requests still running were cut off" {
		t.Fatalf("serve: %v", err)
	}
	// The connection was closed, not left to the request.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil || isTimeout(err) {
		t.Errorf("the request still runs: %v", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
