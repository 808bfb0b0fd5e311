// Package reqbody reads the body of an API request, within a size limit,
// into a buffer the caller provides: the check API's and the AuthZEN
// evaluation's bodies, read tens of thousands of times a second.
package reqbody

import (
	"bytes"
	"net/http"
)

// Read appends r's body to buf, refusing a body of more than limit bytes
// with a *http.MaxBytesError, as reading it through http.MaxBytesReader
// would. Any other error is the body's own.
//
// What it saves: a body whose Content-Length is within limit is read
// without the http.MaxBytesReader that would otherwise wrap it, one
// allocation on every request: net/http's body never gives more than its
// Content-Length. A body without one (chunked) or announcing more than
// limit goes through http.MaxBytesReader, which also tells the server to
// close the connection once the refusal is written.
func Read(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64) error {
	if r.ContentLength >= 0 && r.ContentLength <= limit {
		buf.Grow(int(r.ContentLength))
		_, err := buf.ReadFrom(r.Body)
		return err
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	return err
}
