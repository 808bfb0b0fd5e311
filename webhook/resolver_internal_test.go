package webhook

import (
	"net"
	"net/url"
	"strings"
	"testing"
)

// TestWithoutResolver_ALookupThatFailsNamesTheHostNotTheServer: the error
// kept for the delivery log says which name could not be resolved, never
// the address of the DNS server that said so; other errors are kept as
// they are.
func TestWithoutResolver_ALookupThatFailsNamesTheHostNotTheServer(t *testing.T) {
	lookup := &url.Error{Op: "Post", URL: "https://hooks.example.com/", Err: &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "hooks.example.com", Server: "10.255.255.53:53", IsNotFound: true}}}
	got := withoutResolver(lookup).Error()
	if got != "could not resolve hooks.example.com: no such host" || strings.Contains(got, "10.255.255.53") {
		t.Errorf("a failed lookup: %q", got)
	}
	other := &url.Error{Op: "Post", URL: "https://hooks.example.com/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errRefused}}
	if withoutResolver(other) != other {
		t.Errorf("another error changed: %v", withoutResolver(other))
	}
}
