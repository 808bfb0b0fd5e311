package reqbody

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRead_RefusesWhatIsOverTheLimitWithOrWithoutLength sends bodies to a
// real server, with a Content-Length and chunked, within and over the
// limit: within, the body is read whole; over, the error is the
// *http.MaxBytesError that http.MaxBytesReader gives, and the server
// closes the connection after answering.
func TestRead_RefusesWhatIsOverTheLimitWithOrWithoutLength(t *testing.T) {
	const limit = 64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		err := Read(w, r, &buf, limit)
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
		default:
			w.Write(buf.Bytes())
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		body    string
		chunked bool
		status  int
	}{
		{"empty", "", false, 200},
		{"at the limit", strings.Repeat("a", limit), false, 200},
		{"over the limit", strings.Repeat("a", limit+1), false, 413},
		{"far over the limit", strings.Repeat("a", 10*limit), false, 413},
		{"chunked, at the limit", strings.Repeat("a", limit), true, 200},
		{"chunked, over the limit", strings.Repeat("a", limit+1), true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				// A reader of unknown length: the client sends it chunked.
				body = io.MultiReader(body)
			}
			req, err := http.NewRequest("POST", srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.status == 200 && string(got) != tc.body {
				t.Fatalf("read %d bytes, want %d", len(got), len(tc.body))
			}
			if tc.status == 413 && !res.Close {
				t.Error("the connection is kept after a body over the limit")
			}
		})
	}
}

// TestRead_AppendsWithoutAllocatingWhenTheLengthIsKnown holds the saving
// Read is for: a body of known length within the limit is read into a
// buffer with room for it without any allocation.
func TestRead_AppendsWithoutAllocatingWhenTheLengthIsKnown(t *testing.T) {
	body := strings.NewReader(`{"user_id":"x"}`)
	req := httptest.NewRequest("POST", "/", body)
	w := httptest.NewRecorder()
	buf := bytes.NewBuffer(make([]byte, 0, 512))
	allocs := testing.AllocsPerRun(100, func() {
		body.Seek(0, io.SeekStart)
		buf.Reset()
		if err := Read(w, req, buf, 1<<10); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations a read, want 0", allocs)
	}
	if buf.String() != `{"user_id":"x"}` {
		t.Errorf("read %q", buf.String())
	}
}
