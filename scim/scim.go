package scim

import (
	"bytes"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/internal/reqquery"
	"github.com/equipe-dev/equipe/team"
)

// Service serves SCIM 2.0 for the accounts that turned it on.
type Service struct {
	Team *team.Service
	I18n *i18n.Catalog
	Log  *slog.Logger
	// Base is the service's public URL without a trailing slash: resources'
	// locations are under Base + Prefix.
	Base string
}

// Prefix is the path under which the service answers.
const Prefix = "/scim/v2"

// The protocol's media type and schema URNs.
const (
	mediaType        = "application/scim+json"
	schemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaConfig     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaType       = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// call is one authenticated request: the key acting, and its account.
type call struct {
	s       *Service
	w       http.ResponseWriter
	r       *http.Request
	actor   team.Actor
	account equipe.Account
	locale  string                    // the account's: the language of role names
	roles   map[string]string         // the account's custom roles' names, once read
	times   map[string]team.RoleTimes // the account's roles' times, once read
}

// Handler returns the handler of every path under Prefix.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	routes := []struct {
		pattern string
		fn      func(*call) error
	}{
		{"GET /Users", (*call).listUsers},
		{"POST /Users", (*call).createUser},
		{"GET /Users/{id}", (*call).getUser},
		{"PUT /Users/{id}", (*call).replaceUser},
		{"PATCH /Users/{id}", (*call).patchUser},
		{"DELETE /Users/{id}", (*call).deleteUser},
		{"GET /Groups", (*call).listGroups},
		{"GET /Groups/{id}", (*call).getGroup},
		{"PUT /Groups/{id}", (*call).replaceGroup},
		{"PATCH /Groups/{id}", (*call).patchGroup},
		{"POST /Groups", (*call).groupsFixed},
		{"DELETE /Groups/{id}", (*call).groupsFixed},
	}
	allowed := map[string][]string{} // the methods of each path, in order
	var paths []string
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		mux.Handle(method+" "+Prefix+path, s.authenticated(rt.fn))
		if allowed[path] == nil {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
	}
	for _, p := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/{id}", "/Schemas", "/Schemas/{id}"} {
		paths, allowed[p] = append(paths, p), []string{"GET"}
	}
	// Another method on a known path is 405 with the methods it has, not
	// the 404 of an unknown path.
	for _, p := range paths {
		allow := strings.Join(allowed[p], ", ")
		mux.HandleFunc(Prefix+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			s.fail(w, r, &scimError{status: http.StatusMethodNotAllowed, key: "request.method"})
		})
	}
	// Discovery says what the service supports and nothing of any account:
	// RFC 7644 §4 lets it be read without authenticating.
	mux.HandleFunc("GET "+Prefix+"/ServiceProviderConfig", s.serviceProviderConfig)
	mux.HandleFunc("GET "+Prefix+"/ResourceTypes", s.resourceTypes)
	mux.HandleFunc("GET "+Prefix+"/ResourceTypes/{id}", s.resourceType)
	mux.HandleFunc("GET "+Prefix+"/Schemas", s.schemas)
	mux.HandleFunc("GET "+Prefix+"/Schemas/{id}", s.schema)
	// The service has no /Me: the key that calls is an account's, not a
	// person's. RFC 7644 §3.11 answers that with 501, the same for every
	// account and method, as discovery answers without a key.
	me := func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &scimError{status: http.StatusNotImplemented, key: "scim.me_unsupported"})
	}
	mux.HandleFunc(Prefix+"/Me", me)
	mux.HandleFunc(Prefix+"/Me/", me)
	mux.HandleFunc("/scim/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &scimError{status: http.StatusNotFound, key: "error.not_found"})
	})
	return mux
}

// authenticated runs fn for a request made with an account's SCIM key,
// once the account has SCIM turned on.
func (s *Service) authenticated(fn func(*call) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := httpauth.Unavailable(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if httpauth.BadKey(r) {
			s.fail(w, r, equipe.Errorf(equipe.EUNAUTHORIZED, httpauth.KeyRefusal(r)))
			return
		}
		c := &call{s: s, w: w, r: r, actor: team.Actor{Key: httpauth.APIKey(r), IP: httpauth.Origin(r).IP}}
		acct, err := s.Team.SCIMAccount(r.Context(), c.actor)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// Roles are named in the account's language, whoever asks: a
		// directory matches groups by name.
		c.account, c.locale = acct, acct.Locale
		if err := checkQuery(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := fn(c); err != nil {
			s.fail(w, r, err)
		}
	})
}

// checkQuery refuses a query string with a pair that does not parse, or
// a parameter given twice: every parameter is read once, and would
// otherwise be dropped in silence or read half.
func checkQuery(r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	_, repeated, err := reqquery.Parse(r.URL.RawQuery)
	switch {
	case err != nil:
		return badRequest(invalidSyntax, "request.query_invalid", nil)
	case repeated != "":
		return badRequest(invalidSyntax, "request.query_repeated", map[string]any{"name": repeated})
	}
	return nil
}

// groupsFixed answers the Group operations the service does not offer: an
// account's groups are its roles, made and removed in equipe.
func (c *call) groupsFixed() error {
	return &scimError{status: http.StatusNotImplemented, key: "scim.groups_fixed"}
}

// maxBody bounds request bodies: a user or a patch is far smaller.
const maxBody = 64 << 10

// body reads the request's JSON object: a media type of SCIM or JSON, at
// most maxBody bytes.
func (c *call) body() (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mt != mediaType && mt != "application/json" {
		return nil, &scimError{status: http.StatusUnsupportedMediaType, key: "request.media_type"}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(c.w, c.r.Body, maxBody)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &scimError{status: http.StatusRequestEntityTooLarge, key: "request.too_large"}
		}
		return nil, badRequest(invalidSyntax, "request.malformed", nil)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m == nil {
		return nil, badRequest(invalidSyntax, "request.malformed", nil)
	}
	return m, nil
}

// Paging (RFC 7644 §3.4.2.4): startIndex is 1-based, count defaults to
// defaultCount and is held to maxCount.
const (
	defaultCount = 100
	maxCount     = team.MaxDirectoryPage
)

// paging reads startIndex and count: below 1 reads as 1, a negative count
// as 0 (RFC 7644), more than maxCount as maxCount.
func (c *call) paging() (start, count int, err error) {
	q := c.r.URL.Query()
	start, count = 1, defaultCount
	if v := q.Get("startIndex"); v != "" {
		if start, err = strconv.Atoi(v); err != nil {
			return 0, 0, badRequest(invalidValue, "scim.start_index_invalid", nil)
		}
		start = max(start, 1)
	}
	if v := q.Get("count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil {
			return 0, 0, badRequest(invalidValue, "scim.count_invalid", nil)
		}
		count = min(max(count, 0), maxCount)
	}
	return start, count, nil
}

// listResponse is RFC 7644 §3.4.2's answer to a query.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

// meta is a resource's metadata (RFC 7643 §3.1): lastModified is the last
// change of what the resource shows (equipe.Member.UpdatedAt,
// team.RoleTimes).
type meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location"`
}

// location is the URL of the resource at path (under Prefix).
func (c *call) location(path string) string { return c.s.Base + Prefix + path }
