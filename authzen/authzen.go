package authzen

import (
	"bytes"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/internal/reqbody"
	"github.com/equipe-dev/equipe/problem"
	"github.com/equipe-dev/equipe/team"
)

// Service serves the AuthZEN API.
type Service struct {
	Team      *team.Service
	Catalogue *access.Catalogue
	I18n      *i18n.Catalog
	Log       *slog.Logger
	// PDP is the policy decision point's identifier: the service's public
	// URL, without a trailing slash. Every endpoint of the metadata is
	// under it.
	PDP string
}

// The API's paths (the specification's defaults).
const (
	PathEvaluation     = "/access/v1/evaluation"
	PathEvaluations    = "/access/v1/evaluations"
	PathSearchSubject  = "/access/v1/search/subject"
	PathSearchResource = "/access/v1/search/resource"
	PathSearchAction   = "/access/v1/search/action"
	PathMetadata       = "/.well-known/authzen-configuration"
)

// Body limits: one question is small; a batch of up to maxBatch may be
// larger.
const (
	maxBody      = 64 << 10
	maxBatchBody = 512 << 10
	maxBatch     = 1000
)

// Handler returns the handler of the API's paths: /access/v1/ and the
// metadata.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+PathEvaluation, s.post(maxBody, s.evaluation))
	mux.Handle("POST "+PathEvaluations, s.post(maxBatchBody, s.evaluations))
	mux.Handle("POST "+PathSearchSubject, s.post(maxBody, s.searchSubject))
	mux.Handle("POST "+PathSearchResource, s.post(maxBody, s.searchResource))
	mux.Handle("POST "+PathSearchAction, s.post(maxBody, s.searchAction))
	mux.HandleFunc("GET "+PathMetadata, func(w http.ResponseWriter, r *http.Request) {
		echoRequestID(w, r)
		s.metadata(w, r)
	})
	refuse := func(allow string, status int, key string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			echoRequestID(w, r)
			if allow != "" {
				w.Header().Set("Allow", allow)
			}
			s.fail(w, r, &reqError{status: status, key: key})
		}
	}
	for _, p := range []string{PathEvaluation, PathEvaluations, PathSearchSubject, PathSearchResource, PathSearchAction} {
		mux.HandleFunc(p, refuse("POST", http.StatusMethodNotAllowed, "request.method"))
	}
	mux.HandleFunc(PathMetadata, refuse("GET, HEAD", http.StatusMethodNotAllowed, "request.method"))
	mux.HandleFunc("/access/", refuse("", http.StatusNotFound, "error.not_found"))
	return mux
}

// EvaluationHandler returns the handler of POST /access/v1/evaluation
// alone: the hot path, which the server sends there without pattern
// matching (as it does the check API's).
func (s *Service) EvaluationHandler() http.Handler { return s.post(maxBody, s.evaluation) }

// reqError is an error of the request as a whole: its HTTP status and the
// message key (with arguments) that says what is wrong.
type reqError struct {
	status int
	key    string
	args   map[string]any
}

func (e *reqError) Error() string { return e.key }

// badRequest is a 400 saying key.
func badRequest(key string, args map[string]any) *reqError {
	return &reqError{status: http.StatusBadRequest, key: key, args: args}
}

// Header values shared by every answer (see api: nothing writes into them).
var (
	noStore  = []string{"no-store"}
	jsonType = []string{"application/json"}
)

// post wraps a handler of a POST endpoint: the request identifier echoed,
// no caching, the caller authenticated by an API key, the body read (JSON
// object, at most limit bytes) and handed to handle, errors answered.
func (s *Service) post(limit int64, handle func(w http.ResponseWriter, r *http.Request, caller team.Actor, body []byte) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echoRequestID(w, r)
		w.Header()["Cache-Control"] = noStore
		caller, err := authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		buf, err := readObject(w, r, limit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer putBuf(buf)
		if err := handle(w, r, caller, buf.Bytes()); err != nil {
			s.fail(w, r, err)
		}
	})
}

// echoRequestID gives the answer the request's identifier, as the
// specification requires of every answer.
func echoRequestID(w http.ResponseWriter, r *http.Request) {
	if id := r.Header["X-Request-Id"]; len(id) > 0 {
		w.Header()["X-Request-Id"] = id
	}
}

// authenticate returns the caller: an API key (Authorization: Bearer), the
// same keys as the rest of the API's. Without one, or with one that is not
// valid, the answer is 401 with WWW-Authenticate; credentials that could not
// be checked (the database unreachable) are 503.
func authenticate(r *http.Request) (team.Actor, error) {
	if err := httpauth.Unavailable(r); err != nil {
		return team.Actor{}, err
	}
	if httpauth.BadBearer(r) {
		// No session is taken here: whatever is not a key is no key.
		key := "authzen.api_key_required"
		if httpauth.BadKey(r) {
			key = httpauth.KeyRefusal(r)
		}
		return team.Actor{}, equipe.Errorf(equipe.EUNAUTHORIZED, key)
	}
	k := httpauth.APIKey(r)
	if k == nil {
		return team.Actor{}, equipe.Errorf(equipe.EUNAUTHORIZED, "authzen.api_key_required")
	}
	if k.Purpose != equipe.KeyAPI {
		// A directory's SCIM key provisions members and asks nothing else.
		return team.Actor{}, equipe.Errorf(equipe.EFORBIDDEN, "api_key.scim_only")
	}
	return team.Actor{Key: k, IP: httpauth.IP(r)}, nil
}

// bufs holds the buffers request bodies are read into, reused.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf bounds the buffers kept for reuse.
const maxPooledBuf = 64 << 10

func getBuf() *bytes.Buffer { return bufs.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuf {
		b.Reset()
		bufs.Put(b)
	}
}

// jsonMediaType reports whether a Content-Type header names JSON, as the
// specification requires of every request.
func jsonMediaType(ct string) bool {
	if ct == "application/json" || strings.EqualFold(ct, "application/json") {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readObject reads the request's body: JSON (415 otherwise), at most limit
// bytes (413), an object (400).
func readObject(w http.ResponseWriter, r *http.Request, limit int64) (*bytes.Buffer, error) {
	if !jsonMediaType(httpauth.First(r.Header, "Content-Type")) {
		return nil, &reqError{status: http.StatusUnsupportedMediaType, key: "request.media_type"}
	}
	buf := getBuf()
	if err := reqbody.Read(w, r, buf, limit); err != nil {
		putBuf(buf)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &reqError{status: http.StatusRequestEntityTooLarge, key: "request.too_large"}
		}
		return nil, badRequest("request.malformed", nil)
	}
	if t := bytes.TrimLeft(buf.Bytes(), " \t\r\n"); len(t) == 0 || t[0] != '{' {
		putBuf(buf)
		return nil, badRequest("request.not_object", nil)
	}
	return buf, nil
}

// unmarshal decodes the body into v. Unknown members are ignored, as the
// specification requires; a member given twice, a value of the wrong type
// and malformed JSON are 400, naming the member.
func unmarshal(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var se *json.SemanticError
	var xe *jsontext.SyntacticError
	switch {
	case errors.As(err, &xe) && errors.Is(err, jsontext.ErrDuplicateName):
		return badRequest("authzen.duplicate_member", map[string]any{"member": pointerField(string(xe.JSONPointer))})
	case errors.As(err, &se):
		return badRequest("authzen.wrong_type", map[string]any{"member": pointerField(string(se.JSONPointer))})
	}
	return badRequest("request.malformed", nil)
}

// pointerField turns a JSON pointer (/subject/properties/id_type) into the
// dotted name the messages use (subject.properties.id_type).
func pointerField(ptr string) string {
	ptr = strings.TrimPrefix(ptr, "/")
	ptr = strings.ReplaceAll(ptr, "/", ".")
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(ptr)
}

// fail answers an error. The specification's error body is "an error
// message string": the answer is that message, as text/plain, in the
// caller's language (Accept-Language). A caller that accepts
// application/problem+json gets the RFC 9457 problem document the rest of
// the API answers, with the same message as its detail and a stable code.
// 401 carries WWW-Authenticate.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, key, args := http.StatusInternalServerError, "error.internal", map[string]any(nil)
	var re *reqError
	if errors.As(err, &re) {
		status, key, args = re.status, re.key, re.args
	} else {
		e := equipe.AsError(err)
		switch {
		case e.Code == equipe.EINTERNAL || !problem.Known(e.Code):
			s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		case e.Code == equipe.EUNAVAILABLE:
			s.Log.Warn("request met an unavailable database", "method", r.Method, "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", "1")
			status, key, args = problem.Status(e.Code), e.Key, e.Args
		default:
			status, key, args = problem.Status(e.Code), e.Key, e.Args
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", brand.Realm(s.I18n.ProductName(), ""))
	}
	locale := acceptLocale(r)
	msg := s.I18n.T(locale, key, args)
	if wantsProblem(r.Header.Get("Accept")) {
		typ := problemType(status)
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		json.MarshalWrite(w, struct {
			Type   string `json:"type"`
			Title  string `json:"title"`
			Status int    `json:"status"`
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}{"urn:equipe:problem:" + typ, s.I18n.T(locale, "error."+strings.ReplaceAll(typ, "-", "_"), nil), status, key, msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(msg))
}

// wantsProblem reports whether an Accept header names the problem document.
func wantsProblem(accept string) bool {
	return strings.Contains(accept, "application/problem+json")
}

// problemType is the problem type of an HTTP status, as the API names it.
func problemType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad-request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed"
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusUnsupportedMediaType:
		return "unsupported-media-type"
	case http.StatusTooManyRequests:
		return "rate-limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal"
}

// metadata answers the policy decision point's metadata.
func (s *Service) metadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	json.MarshalWrite(w, struct {
		PDP            string `json:"policy_decision_point"`
		Evaluation     string `json:"access_evaluation_endpoint"`
		Evaluations    string `json:"access_evaluations_endpoint"`
		SearchSubject  string `json:"search_subject_endpoint"`
		SearchResource string `json:"search_resource_endpoint"`
		SearchAction   string `json:"search_action_endpoint"`
	}{s.PDP, s.PDP + PathEvaluation, s.PDP + PathEvaluations, s.PDP + PathSearchSubject, s.PDP + PathSearchResource,
		s.PDP + PathSearchAction})
}

// respondJSON writes b, a JSON object, with status 200.
func respondJSON(w http.ResponseWriter, b []byte) error {
	w.Header()["Content-Type"] = jsonType
	_, err := w.Write(b)
	return err
}
