package plainjson

import (
	"bytes"
	"testing"
)

// strOneByOne is Str as a byte-by-byte scan: what Str must answer.
func strOneByOne(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[1:i], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
	}
	return nil, false
}

// TestStr_EveryByteAnywhereInALongString puts each of the 256 byte values
// at each place of strings longer than the eight bytes Str reads at a
// time, closed or not, and holds Str to the byte-by-byte answer.
func TestStr_EveryByteAnywhereInALongString(t *testing.T) {
	for n := range 26 {
		for at := range n {
			for c := range 256 {
				for _, closed := range []bool{true, false} {
					text := append([]byte{'"'}, bytes.Repeat([]byte("a"), n)...)
					text[1+at] = byte(c)
					if closed {
						text = append(text, '"')
					}
					want, wantOK := strOneByOne(text)
					p := Parser{B: text}
					got, ok := p.Str()
					if ok != wantOK || !bytes.Equal(got, want) {
						t.Fatalf("Str(%q) = %q, %v; want %q, %v", text, got, ok, want, wantOK)
					}
					if ok && p.I != len(want)+2 {
						t.Fatalf("Str(%q) left the parser at %d, want %d", text, p.I, len(want)+2)
					}
				}
			}
		}
	}
}
