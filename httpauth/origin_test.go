package httpauth_test

import (
	"net/url"
	"testing"

	"github.com/equipe-dev/equipe/httpauth"
)

func TestOrigin_IsWrittenAsBrowsersWriteIt(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080":           "http://127.0.0.1:8080",
		"http://localhost":                "http://localhost",
		"http://localhost:80":             "http://localhost",
		"https://Equipe.Example.COM:443":  "https://equipe.example.com",
		"HTTPS://equipe.example.com:8443": "https://equipe.example.com:8443",
		"https://equipe.example.com:80":   "https://equipe.example.com:80",
		"http://[::1]:8080":               "http://[::1]:8080",
		"http://[::1]":                    "http://[::1]",
		"https://equipe.example.com/":     "https://equipe.example.com",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := httpauth.OriginOf(u); got != want {
			t.Errorf("Origin(%s) = %q, want %q", raw, got, want)
		}
	}
}
