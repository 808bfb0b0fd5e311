// Package plainjson reads the plain form of small JSON objects without
// reflection or copies: the check API's and the AuthZEN evaluation's
// questions, read tens of thousands of times a second, where decoding
// through reflection was a third of a handler's time. Its reader accepts
// only a plain subset (strings of printable ASCII without escapes, null,
// objects); a caller that meets anything else hands the body to
// encoding/json (go-json-experiment), which stays the authority on what is
// accepted and on every error.
package plainjson

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
func (p *Parser) Str() ([]byte, bool) {
	if !p.Byte('"') {
		return nil, false
	}
	start := p.I
	for ; p.I < len(p.B); p.I++ {
		switch c := p.B[p.I]; {
		case c == '"':
			p.I++
			return p.B[start : p.I-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
	}
	return nil, false
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
