// Package reqquery reads the query string of an API request strictly:
// url.URL.Query drops in silence a pair that does not parse (a bad percent
// escape, a semicolon), and url.Values.Get takes the first of a parameter
// given twice, so that a malformed cursor reads as none (page 1 again) and
// a credential hidden that way passes the guard against secrets in URLs.
package reqquery

import (
	"net/url"
	"slices"
	"strings"
)

// Parse parses the query string raw. It returns an error when a pair does
// not parse, and otherwise the values and the first parameter (in the
// order of raw) given more than once, unless lists names it: a parameter
// that is a list, given once per element. repeated is "" when none is.
func Parse(raw string, lists ...string) (q url.Values, repeated string, err error) {
	q, err = url.ParseQuery(raw)
	if err != nil {
		return nil, "", err
	}
	if len(q) == strings.Count(raw, "&")+1 {
		return q, "", nil // as many parameters as pairs: none repeated
	}
	for pair := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if name, err = url.QueryUnescape(name); err != nil {
			return nil, "", err // ParseQuery has read it already
		}
		if len(q[name]) > 1 && !slices.Contains(lists, name) {
			return q, name, nil
		}
	}
	return q, "", nil
}
