package identity

import (
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		raw, email, key, problem string
	}{
		{"bob@example.com", "bob@example.com", "bob@example.com", ""},
		{"  Bob@Example.COM \t", "Bob@example.com", "bob@example.com", ""},
		{"mike@EXAMPLE.com ", "mike@example.com", "mike@example.com", ""},
		{"user@bücher.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example", ""},
		{"user@BÜCHER.example", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example", ""},
		{"o'brien+tag@sub.example.co.uk", "o'brien+tag@sub.example.co.uk", "o'brien+tag@sub.example.co.uk", ""},
		{"", "", "", "email.required"},
		{"   ", "", "", "email.required"},
		{"bob", "", "", "email.invalid"},
		{"bob@", "", "", "email.invalid"},
		{"@example.com", "", "", "email.invalid"},
		{"a@b@example.com", "", "", "email.invalid"},
		{"bob@localhost", "", "", "email.invalid_domain"},
		{"bob@127.0.0.1", "", "", "email.invalid_domain"},
		{"bob@[127.0.0.1]", "", "", "email.invalid"},
		{"bob@-example.com", "", "", "email.invalid_domain"},
		{"bob@exa_mple.com", "", "", "email.invalid_domain"},
		{".bob@example.com", "", "", "email.invalid"},
		{"bo..b@example.com", "", "", "email.invalid"},
		{"bob@example.com\r\nBcc: eve@evil.test", "", "", "email.invalid"},
		{"bob@example.com\nx", "", "", "email.invalid"},
		{"bob\x00@example.com", "", "", "email.invalid"},
		{`"Evil" <a@b.example>`, "", "", "email.invalid"},
		{"Evil <a@b.example>", "", "", "email.invalid"},
		{"a@b.example,c@d.example", "", "", "email.invalid"},
		{"mıke@example.com", "", "", "email.non_ascii_local"},                     // U+0131 dotless i
		{"bob@exаmple.com", "", "", "email.confusable"},                           // Cyrillic а
		{"bob@аррӏе.com", "bob@xn--80ak6aa92e.com", "bob@xn--80ak6aa92e.com", ""}, // whole-script Cyrillic: one script, allowed
		{strings.Repeat("a", 65) + "@example.com", "", "", "email.too_long"},
		{"a@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 60) + ".com", "", "", "email.too_long"},
		{strings.Repeat("x", 5000), "", "", "email.too_long"},
	}
	for _, tt := range tests {
		email, key, problem := NormalizeEmail(tt.raw)
		if email != tt.email || key != tt.key || problem != tt.problem {
			t.Errorf("NormalizeEmail(%q) = %q, %q, %q; want %q, %q, %q", tt.raw, email, key, problem, tt.email, tt.key, tt.problem)
		}
	}
}

func TestEmailKey_CollidesAcrossCaseAndSpace(t *testing.T) {
	if EmailKey("Bob@Example.COM") != EmailKey(" bob@example.com ") {
		t.Fatal("case and space variants have different keys")
	}
	if EmailKey("mıke@example.com") == EmailKey("mike@example.com") {
		t.Fatal("dotless-i variant shares the key of the ASCII address")
	}
}
