package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/idempotency"
)

// notIdempotent lists the POST routes of callers that refuse an
// Idempotency-Key, with the reason given. Keeping their answer would keep
// a secret shown once (an API key, an authenticator seed, recovery codes,
// a webhook's signing secret) or a fingerprint of a password; replaying a
// check would answer a decision that may no longer hold (a check changes
// nothing: retry it as it is). Public routes refuse it too (see
// publicNotIdempotent). TestIdempotency_RoutesWithSecretsRefuseKeys reads
// the OpenAPI document for routes that answer a secret or take a password,
// so that a new one cannot be forgotten here.
var notIdempotent = map[string]string{
	"/api/v1/me/totp":                     "idempotency.secret_answer",
	"/api/v1/me/totp/confirm":             "idempotency.secret_answer",
	"/api/v1/me/recovery-codes":           "idempotency.secret_answer",
	"/api/v1/accounts/{account}/api-keys": "idempotency.secret_answer",
	"/api/v1/api-keys":                    "idempotency.secret_answer",
	"/api/v1/accounts/{account}/webhooks": "idempotency.secret_answer",
	"/api/v1/webhooks":                    "idempotency.secret_answer",
	"/api/v1/accounts/{account}/webhooks/{webhook}/rotate-secret": "idempotency.secret_answer",
	"/api/v1/webhooks/{webhook}/rotate-secret":                    "idempotency.secret_answer",
	"/api/v1/oidc-clients":                                        "idempotency.secret_answer",
	"/api/v1/oidc-clients/{client}/rotate-secret":                 "idempotency.secret_answer",
	"/api/v1/me/password":                                         "idempotency.password_request",
	"/api/v1/me/email":                                            "idempotency.password_request",
	"/api/v1/me/passkeys/options":                                 "idempotency.password_request",
	"/api/v1/check":                                               "idempotency.check",
	"/api/v1/check/batch":                                         "idempotency.check",
}

// publicNotIdempotent is the reason public routes refuse an
// Idempotency-Key: a key belongs to a caller, and they have none (most
// of them also consume a one-time link or answer a session token).
const publicNotIdempotent = "idempotency.public_route"

// keptHeaders are the header fields of an answer kept with it and sent
// again on a replay.
var keptHeaders = []string{"Content-Type", "Content-Language", "Location", "Etag", "Link"}

// idempotencyRefusal returns why rt refuses an Idempotency-Key ("" when it
// takes one).
func idempotencyRefusal(rt route) string {
	if rt.access == public {
		return publicNotIdempotent
	}
	return notIdempotent[rt.path]
}

// idempotent answers a POST sent with an Idempotency-Key (the header's
// values given): it runs rt once per key and caller and answers a retry
// with the first answer (see package idempotency and docs/api.md).
func (a *API) idempotent(rt route, w http.ResponseWriter, r *http.Request, values []string) {
	bad := func(key string) {
		a.fail(w, r, &requestError{status: http.StatusBadRequest, typ: "bad-request", key: key})
	}
	if reason := idempotencyRefusal(rt); reason != "" {
		bad(reason)
		return
	}
	key, ok := idempotencyKey(values)
	if !ok {
		bad("idempotency.key_invalid")
		return
	}
	limit := int64(maxBatchBody)
	if rt.path == importPath {
		limit = maxImportBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		bad("request.malformed")
		return
	}
	if int64(len(body)) > limit {
		a.fail(w, r, &requestError{status: http.StatusRequestEntityTooLarge, typ: "too-large", key: "request.too_large"})
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	req := idempotency.Request{Scope: idempotencyScope(r), Key: key,
		Fingerprint: idempotency.Fingerprint(r.Method, r.URL.RequestURI(), body)}
	claim, answer, err := a.Idempotency.Begin(r.Context(), req)
	if err != nil {
		if e := equipe.AsError(err); e.Key == "idempotency.in_progress" {
			w.Header().Set("Retry-After", "1")
		}
		a.fail(w, r, err)
		return
	}
	if answer != nil {
		for k, v := range answer.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(answer.Status)
		w.Write(answer.Body)
		return
	}
	rec := &recorder{ResponseWriter: w}
	if err := rt.handle(a, rec, r); err != nil {
		a.fail(rec, r, err)
	}
	// The answer is kept once the use case has committed, whatever the
	// client does meanwhile.
	ctx := context.WithoutCancel(r.Context())
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	// A passing fault or a limit is not an answer to keep: the retry runs
	// the request again.
	if status >= 500 || status == http.StatusTooManyRequests || rec.body.Len() > idempotency.MaxAnswer {
		err = a.Idempotency.Release(ctx, claim)
	} else {
		kept := map[string]string{}
		for _, h := range keptHeaders {
			if v := rec.Header().Get(h); v != "" {
				kept[h] = v
			}
		}
		err = a.Idempotency.Finish(ctx, claim, idempotency.Answer{Status: status, Header: kept, Body: rec.body.Bytes()})
	}
	if err != nil {
		a.Log.Error("idempotency key: the answer was not kept", "path", httpauth.RedactPath(r.URL.Path), "err", err)
	}
}

// idempotencyKey reads the Idempotency-Key header's values: one value, a
// structured-field string ("…", as the draft writes it) or the bare key
// that most clients send, of 1 to 255 printable ASCII characters.
func idempotencyKey(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	key := strings.TrimSpace(values[0])
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		var ok bool
		if key, ok = sfString(key[1 : len(key)-1]); !ok {
			return "", false
		}
	}
	return key, idempotency.ValidKey(key)
}

// sfString reads the inside of a structured-field string (RFC 8941): a
// backslash escapes only a quote or a backslash, and a bare quote ends it.
func sfString(s string) (string, bool) {
	if !strings.ContainsAny(s, `"\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return "", false
		case '\\':
			if i+1 == len(s) || s[i+1] != '"' && s[i+1] != '\\' {
				return "", false
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// idempotencyScope is whose keys the request's is among: its API key's or
// its person's (every session of theirs).
func idempotencyScope(r *http.Request) string {
	if k := httpauth.APIKey(r); k != nil {
		return "key:" + k.ID.String()
	}
	auth, _ := httpauth.Auth(r)
	return "user:" + auth.User.ID.String()
}

// recorder passes an answer on and keeps a copy of its status and body.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.body.Len() <= idempotency.MaxAnswer {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
