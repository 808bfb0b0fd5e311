package api

// The check API reads one small object per call, tens of thousands of times
// a second: decoding it through reflection was a third of the handler's
// time. parseCheck reads the usual form of that object directly and leaves
// everything else to json.Unmarshal, which stays the authority on what the
// API accepts and on every error it answers.

// parseCheck reads body, a JSON object, into c when it is in the plain
// form: the known member names, each at most once, without escapes; string
// values of printable ASCII without escapes (null for resource_id and
// owner_id); nothing after the object but white space. It reports false,
// leaving c in any state, for anything else; decoding body with
// json.Unmarshal then gives the answer, or the error. For a body it
// accepts, it gives what json.Unmarshal would, identifiers parsed from the
// body without copies.
func parseCheck(body []byte, perms map[string]string, c *checkQuestion) bool {
	p := parser{b: body}
	if !p.byte('{') {
		return false
	}
	var seen uint8
	if p.peek() == '}' {
		p.i++
		return p.end()
	}
	for {
		name, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		var bit uint8
		switch string(name) {
		case "user_id":
			bit = 1
			v, ok := p.str()
			if !ok {
				return false
			}
			c.user = parseIDBytes(v)
			if !c.user.ok {
				c.userExt = externalRef(v)
			}
		case "account_id":
			bit = 2
			v, ok := p.str()
			if !ok {
				return false
			}
			c.account = parseIDBytes(v)
		case "permission":
			bit = 4
			v, ok := p.str()
			if !ok {
				return false
			}
			// The catalogue's own string when it names a permission.
			if k, known := perms[string(v)]; known {
				c.permission = k
			} else {
				c.permission = string(v)
			}
		case "resource_id":
			bit = 8
			if p.null() {
				c.hasResource, c.resource = false, parsedID{}
				break
			}
			v, ok := p.str()
			if !ok {
				return false
			}
			c.hasResource, c.resource = true, parseIDBytes(v)
		case "owner_id":
			bit = 16
			c.ownerPresent = true
			if p.null() {
				c.ownerNull = true
				break
			}
			v, ok := p.str()
			if !ok {
				return false
			}
			c.owner = parseIDBytes(v)
			if !c.owner.ok {
				c.ownerExt = externalRef(v)
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch p.next() {
		case ',':
		case '}':
			return p.end()
		default:
			return false
		}
	}
}

// parser reads the plain form of a JSON object.
type parser struct {
	b []byte
	i int
}

func (p *parser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (p *parser) peek() byte {
	p.space()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// next consumes and returns the next byte after white space, or 0.
func (p *parser) next() byte {
	c := p.peek()
	if c != 0 {
		p.i++
	}
	return c
}

func (p *parser) byte(c byte) bool { return p.next() == c }

// str reads a string of printable ASCII without escapes and returns its
// contents.
func (p *parser) str() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
	}
	return nil, false
}

// null reads a null, if one is next.
func (p *parser) null() bool {
	if p.peek() != 'n' || len(p.b)-p.i < 4 || string(p.b[p.i:p.i+4]) != "null" {
		return false
	}
	p.i += 4
	return true
}

// end reports whether only white space is left.
func (p *parser) end() bool {
	p.space()
	return p.i == len(p.b)
}

// externalRef returns the vendor's identifier in an identifier of the form
// external_id:{id}, or nil.
func externalRef(v []byte) *string {
	if len(v) <= len(externalPrefix) || string(v[:len(externalPrefix)]) != externalPrefix {
		return nil
	}
	ext := string(v[len(externalPrefix):])
	return &ext
}
