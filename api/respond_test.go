package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/idempotency"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestRespond_AnAnswerThatCannotBeEncodedIsA500ThatNoKeyKeeps: a value
// that JSON cannot carry (a string that is not UTF-8) is answered as an
// internal problem whose status is the one sent, and a POST with an
// Idempotency-Key then frees its key, as every 5xx does: the retry runs
// again rather than replaying a broken answer for a day.
func TestRespond_AnAnswerThatCannotBeEncodedIsA500ThatNoKeyKeeps(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			a := &API{Idempotency: &idempotency.Service{DB: storetest.Open(t, e), Now: time.Now},
				I18n: i18n.MustLoad(), Log: slog.New(slog.DiscardHandler)}
			runs := 0
			rt := route{http.MethodPost, "/api/v1/accounts/{account}/member-imports", caller,
				func(a *API, w http.ResponseWriter, r *http.Request) error {
					runs++
					return respond(w, http.StatusOK, map[string]string{"name": "Si\xe8ge"})
				}}
			post := func() *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				r := httptest.NewRequest(http.MethodPost, "/api/v1/accounts/x/member-imports", strings.NewReader("email\n"))
				a.idempotent(rt, w, r, []string{"import-1"})
				return w
			}
			for i := range 2 {
				w := post()
				var p Problem
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
					t.Fatalf("answer %d: %d %q: %v", i, w.Code, w.Body, err)
				}
				if w.Code != http.StatusInternalServerError || p.Status != w.Code || p.Code != "error.internal" ||
					w.Header().Get("Content-Type") != "application/problem+json" {
					t.Fatalf("answer %d: %d %v %s, want a 500 internal problem", i, w.Code, w.Header(), w.Body)
				}
				if w.Header().Get("Idempotent-Replayed") != "" {
					t.Fatalf("answer %d: a 500 was kept and replayed", i)
				}
			}
			if runs != 2 {
				t.Fatalf("the request ran %d times, want 2: the 500 kept its key", runs)
			}
		})
	}
}

// TestWriteProblem_TextThatIsNotUTF8IsStillAProblem: a problem that quotes
// a byte of the request that is not UTF-8 keeps its status and its code.
func TestWriteProblem_TextThatIsNotUTF8IsStillAProblem(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/accounts", nil)
	err := &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "Si\xe8ge", Key: "name.invalid"}}}
	writeProblem(w, r, i18n.MustLoad(), slog.New(slog.DiscardHandler), "en", err)
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != 422 || p.Status != 422 || p.Code != "error.fields" ||
		len(p.Errors) != 1 || p.Errors[0].Field != "Si\uFFFDge" {
		t.Fatalf("%d %q (%v)", w.Code, w.Body, err)
	}
}
