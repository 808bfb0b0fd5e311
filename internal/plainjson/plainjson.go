// Package plainjson reads the plain form of small JSON objects without
// reflection or copies: the check API's and the AuthZEN evaluation's
// questions, read tens of thousands of times a second, where decoding
// through reflection was a third of a handler's time. Its reader accepts
// only a plain subset (strings of printable ASCII without escapes, null,
// objects); a caller that meets anything else hands the body to
// encoding/json (go-json-experiment), which stays the authority on what is
// accepted and on every error.
package plainjson

import "encoding/binary"

// Parser reads a JSON text from its start.
type Parser struct {
	B []byte
	I int
}

// Space skips white space.
func (p *Parser) Space() {
	for p.I < len(p.B) {
		switch p.B[p.I] {
		case ' ', '\t', '\r', '\n':
			p.I++
		default:
			return
		}
	}
}

// Peek returns the next byte after white space, or 0 at the end.
func (p *Parser) Peek() byte {
	p.Space()
	if p.I < len(p.B) {
		return p.B[p.I]
	}
	return 0
}

// Next consumes and returns the next byte after white space, or 0.
func (p *Parser) Next() byte {
	c := p.Peek()
	if c != 0 {
		p.I++
	}
	return c
}

// Byte reports whether the next byte after white space is c, consuming it.
func (p *Parser) Byte(c byte) bool { return p.Next() == c }

// Str reads a string of printable ASCII without escapes and returns its
// contents (a slice of the text, not a copy).
//
// What it saves: the text is scanned eight bytes at a time (see special),
// with the position in a local variable rather than in p, about a quarter
// of the instructions of a byte-by-byte scan on a check's identifiers.
func (p *Parser) Str() ([]byte, bool) {
	if !p.Byte('"') {
		return nil, false
	}
	b, start := p.B, p.I
	i := start
	for ; i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])); i += 8 {
	}
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			p.I = i + 1
			return b[start:i], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
	}
	return nil, false
}

// special reports whether one of the eight bytes of x ends a plain string
// or is not allowed in one: a quote, a backslash, a control character
// (below 0x20) or anything from 0x7f. Each test is exact as to whether
// some byte matches, which is all it is asked.
func special(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	zero := func(v uint64) uint64 { return (v - ones) &^ v }
	return (zero(quote)|zero(backslash)|(x-ones*0x20)&^x|(x+ones)|x)&highs != 0
}

// Null reads a null, if one is next.
func (p *Parser) Null() bool {
	if p.Peek() != 'n' || len(p.B)-p.I < 4 || string(p.B[p.I:p.I+4]) != "null" {
		return false
	}
	p.I += 4
	return true
}

// End reports whether only white space is left.
func (p *Parser) End() bool {
	p.Space()
	return p.I == len(p.B)
}

// Object reads an object, calling member for each member's name with the
// parser at its value, which member reads (false: not the plain form). It
// reports false for anything but a plain object.
func (p *Parser) Object(member func(name []byte) bool) bool {
	if !p.Byte('{') {
		return false
	}
	if p.Peek() == '}' {
		p.I++
		return true
	}
	for {
		name, ok := p.Str()
		if !ok || !p.Byte(':') || !member(name) {
			return false
		}
		switch p.Next() {
		case ',':
		case '}':
			return true
		default:
			return false
		}
	}
}
