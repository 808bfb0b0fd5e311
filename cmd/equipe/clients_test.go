package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestClients_CreateListRotateAndDeleteFromTheTerminal(t *testing.T) {
	vars := env(map[string]string{"EQUIPE_DATA": t.TempDir(), "EQUIPE_LOG_FORMAT": "json"})
	ctx := context.Background()
	clients := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(ctx, append([]string{"clients"}, args...), nil, &out, io.Discard, vars)
		return out.String(), err
	}
	_, err := clients("create", "--name", "Vendor", "--redirect-uri", "http://app.example.com/cb")
	if err == nil || !strings.Contains(err.Error(), "--redirect-uris") || !strings.Contains(err.Error(), "https://") {
		t.Fatalf("a bad redirect URI: %v", err)
	}
	out, err := clients("create", "--name", "Vendor", "--redirect-uri", "https://app.example.com/cb",
		"--redirect-uri", "http://127.0.0.1:5555/cb", "--scopes", "accounts,offline_access", "--first-party")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`client_id: (\S+)\nclient_secret: (eqcs_\S+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q", out)
	}
	id, secret := m[1], m[2]
	out, err = clients("list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "openid offline_access accounts") ||
		!strings.Contains(out, "confidential,first-party") || strings.Contains(out, secret) {
		t.Fatalf("list: %q %v", out, err)
	}
	out, err = clients("update", id, "--name", "Vendor 2", "--first-party=false", "--scopes", "profile")
	if err != nil || !strings.Contains(out, "Vendor 2, scopes openid profile") {
		t.Fatalf("update: %q %v", out, err)
	}
	if out, err := clients("list"); err != nil || !strings.Contains(out, "Vendor 2") || strings.Contains(out, "first-party") ||
		!strings.Contains(out, "https://app.example.com/cb") {
		t.Fatalf("list after update: %q %v", out, err)
	}
	if _, err := clients("update", id, "--redirect-uri", "ftp://x"); err == nil {
		t.Error("update took a bad redirect URI")
	}
	out, err = clients("rotate-secret", id)
	if err != nil || !strings.HasPrefix(out, "client_secret: eqcs_") || strings.Contains(out, secret) {
		t.Fatalf("rotate-secret: %q %v", out, err)
	}
	if _, err := clients("delete", "not-an-id"); err == nil {
		t.Error("delete took a bad ID")
	}
	if out, err := clients("delete", id); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %q %v", out, err)
	}
	if out, _ := clients("list"); strings.Contains(out, id) {
		t.Errorf("deleted client listed: %q", out)
	}
	if _, err := clients("delete", id); err == nil {
		t.Error("deleting twice succeeded")
	}
}
