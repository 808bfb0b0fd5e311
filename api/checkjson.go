package api

import "github.com/equipe-dev/equipe/internal/plainjson"

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
	p := plainjson.Parser{B: body}
	if !p.Byte('{') {
		return false
	}
	var seen uint8
	if p.Peek() == '}' {
		p.I++
		return p.End()
	}
	for {
		name, ok := p.Str()
		if !ok || !p.Byte(':') {
			return false
		}
		var bit uint8
		switch string(name) {
		case "user_id":
			bit = 1
			v, ok := p.Str()
			if !ok {
				return false
			}
			c.user = parseIDBytes(v)
			if !c.user.ok {
				c.userExt = externalRef(v)
			}
		case "account_id":
			bit = 2
			v, ok := p.Str()
			if !ok {
				return false
			}
			c.account = parseIDBytes(v)
		case "permission":
			bit = 4
			v, ok := p.Str()
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
			if p.Null() {
				c.hasResource, c.resource = false, parsedID{}
				break
			}
			v, ok := p.Str()
			if !ok {
				return false
			}
			c.hasResource, c.resource = true, parseIDBytes(v)
		case "owner_id":
			bit = 16
			c.ownerPresent = true
			if p.Null() {
				c.ownerNull = true
				break
			}
			v, ok := p.Str()
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
		switch p.Next() {
		case ',':
		case '}':
			return p.End()
		default:
			return false
		}
	}
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
