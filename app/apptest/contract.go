package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Contract checks exchanges with the service against an OpenAPI document:
// the document a generated client is built from must say exactly what the
// server answers. Every client of Env goes through it (see Env.Transport),
// so each API test also proves the document.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	// prefixes are the first path segments the document describes
	// ("/api/"): requests elsewhere (pages, assets) are not its business.
	prefixes []string
}

// signalledHeaders are the response headers a client acts upon: an answer
// that carries one must declare it, or a generated client never reads it.
var signalledHeaders = []string{"Location", "Retry-After", "WWW-Authenticate", "Allow",
	"RateLimit", "RateLimit-Policy", "Idempotent-Replayed"}

// NewContract reads an OpenAPI document. It returns an error if the
// document is not valid OpenAPI.
func NewContract(raw []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: read the document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: the document is not valid: %w", err)
	}
	// The document's server is "/": its paths hold on whatever host and
	// port the service listens on.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: route the document: %w", err)
	}
	c := &Contract{doc: doc, router: router}
	for path := range doc.Paths.Map() {
		if seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/"); seg != "" {
			p := "/" + seg + "/"
			if !slices.Contains(c.prefixes, p) {
				c.prefixes = append(c.prefixes, p)
			}
		}
	}
	return c, nil
}

// Covers reports whether the document describes the request's path space.
func (c *Contract) Covers(r *http.Request) bool {
	for _, p := range c.prefixes {
		if strings.HasPrefix(r.URL.Path, p) {
			return true
		}
	}
	return false
}

// Check returns how the exchange departs from the document, nil when it
// does not: the answer must be one the operation declares (status, media
// type, body schema, headers the client acts on), and a request the server
// accepted (2xx) must be one the document allows. A request the server
// refused is not checked: tests send malformed ones on purpose. A streamed
// answer (text/event-stream) is checked but for its body (a test reads it as it comes).
func (c *Contract) Check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	if err := c.check(req, reqBody, res, resBody); err != nil {
		return fmt.Errorf("openapi: %s %s answered %d: %s", req.Method, req.URL.Path, res.StatusCode, brief(err))
	}
	return nil
}

// brief is the validator's message without the schema and the value it
// prints after each error (the schema is in the document, the value in
// the test's request): what differs, and where.
func brief(err error) string {
	var out []string
	skip := false
	for _, line := range strings.Split(err.Error(), "\n") {
		switch {
		case line == "Schema:" || line == "Value:":
			skip = true
		case skip && (line == "" || strings.HasPrefix(line, " ")):
		default:
			skip = false
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// problemSchema is what an answer to a request no operation matches must
// be: a problem document.
const problemSchema = "Problem"

func (c *Contract) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) error {
	route, params, err := c.route(req)
	if err != nil {
		return c.checkUnrouted(err, res, resBody)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		SkipSettingDefaults:               true,
		MultiError:                        true,
	}
	streamed := isEventStream(res.Header)
	if streamed {
		opts.ExcludeResponseBody = true
	}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("the server accepted a request the document refuses: %w", err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode,
		Header: res.Header, Options: opts}
	out.SetBodyBytes(resBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return err
	}
	resp := route.Operation.Responses.Status(res.StatusCode)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	return declared(resp.Value, res.Header, len(resBody) > 0 || streamed)
}

// route finds the operation of the request. A path parameter may hold an
// escaped slash (an external ID such as "crm/42"): the path is then routed
// as sent, each segment still escaped, and the parameters unescaped after.
func (c *Contract) route(req *http.Request) (*routers.Route, map[string]string, error) {
	if req.URL.RawPath == "" {
		return c.router.FindRoute(req)
	}
	r := req.Clone(context.Background())
	u := *req.URL
	u.Path, u.RawPath = req.URL.RawPath, ""
	r.URL = &u
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range params {
		if params[k], err = url.PathUnescape(v); err != nil {
			return nil, nil, err
		}
	}
	return route, params, nil
}

// declared checks what ValidateResponse lets through: a body where the
// response declares none, and a header the client acts on that the
// response does not name.
func declared(resp *openapi3.Response, h http.Header, body bool) error {
	if body && len(resp.Content) == 0 {
		return fmt.Errorf("the answer has a body (%s) the document does not declare", h.Get("Content-Type"))
	}
	for _, name := range signalledHeaders {
		if h.Get(name) == "" {
			continue
		}
		found := false
		for k := range resp.Headers {
			if strings.EqualFold(k, name) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("the answer carries the header %s the document does not declare", name)
		}
	}
	return nil
}

// checkUnrouted checks the answer to a request that no operation of the
// document matches: the server must refuse it with a problem, 404 for a
// path it does not serve, 405 and Allow for a method it does not take.
func (c *Contract) checkUnrouted(err error, res *http.Response, resBody []byte) error {
	var re *routers.RouteError
	if !errors.As(err, &re) {
		return err
	}
	// The router tells a method the path does not take only for paths
	// without parameters: either refusal may answer a request it cannot
	// match. A request for no operation may also meet the server's limits
	// and outages before it is routed.
	switch res.StatusCode {
	case http.StatusNotFound, http.StatusTooManyRequests, http.StatusServiceUnavailable:
	case http.StatusMethodNotAllowed:
		if res.Header.Get("Allow") == "" {
			return errors.New("a 405 without Allow")
		}
	default:
		return fmt.Errorf("no operation of the document matches the request (%v), yet it was answered %d, not 404 or 405", err, res.StatusCode)
	}
	ref := c.doc.Components.Schemas[problemSchema]
	if ref == nil {
		return errors.New("the document has no Problem schema")
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if ct != "application/problem+json" {
		return fmt.Errorf("a refusal of type %q, not application/problem+json", ct)
	}
	var v any
	if err := json.Unmarshal(resBody, &v); err != nil {
		return fmt.Errorf("a refusal that is not JSON: %w", err)
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("a refusal that is not a Problem: %w", err)
	}
	return nil
}

func isEventStream(h http.Header) bool {
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return ct == "text/event-stream"
}

// served is the document the service serves at /api/openapi.json, read once
// per test binary: every Env of a binary runs the same build.
var served struct {
	once     sync.Once
	contract *Contract
	err      error
}

// ServedContract returns the contract of the document the service at base
// (an Env's URL) serves.
func ServedContract(base string) (*Contract, error) {
	served.once.Do(func() {
		res, err := http.Get(base + "/api/openapi.json")
		if err != nil {
			served.err = err
			return
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET /api/openapi.json answered %d", res.StatusCode)
		}
		if err != nil {
			served.err = err
			return
		}
		served.contract, served.err = NewContract(raw)
	})
	return served.contract, served.err
}

// Checking returns a RoundTripper that sends requests through next
// (http.DefaultTransport when nil) and checks every exchange the contract
// covers. An exchange that departs from the document fails: RoundTrip
// returns the error, and report is given it too (a test may ignore the
// error of a request it expects to fail for other reasons).
func Checking(contract func() (*Contract, error), next http.RoundTripper, report func(error)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &checking{contract: contract, next: next, report: report}
}

type checking struct {
	contract func() (*Contract, error)
	next     http.RoundTripper
	report   func(error)
}

func (ck *checking) RoundTrip(r *http.Request) (*http.Response, error) {
	c, err := ck.contract()
	if err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		ck.report(err)
		return nil, err
	}
	if !c.Covers(r) {
		return ck.next.RoundTrip(r)
	}
	var reqBody []byte
	if r.Body != nil && r.Body != http.NoBody {
		reqBody, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		// A RoundTripper must not change the request it is given.
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	res, err := ck.next.RoundTrip(r)
	if err != nil {
		return res, err
	}
	var resBody []byte
	if !isEventStream(res.Header) {
		resBody, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		res.Body = io.NopCloser(bytes.NewReader(resBody))
	}
	if err := c.Check(r, reqBody, res, resBody); err != nil {
		res.Body.Close()
		ck.report(err)
		return nil, err
	}
	return res, nil
}
