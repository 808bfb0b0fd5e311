package authzen

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// Searches page with opaque tokens: page.next_token of an answer, given as
// page.token of the next request, whose entities and limit must be those of
// the first (400 otherwise, as the specification recommends). A token holds
// a digest of the request it belongs to and where the next page starts,
// sealed under the instance's secret key with the digest and the key that
// asked: a token altered, made up, or given by another key does not open.

// defaultPage is the page size when page.limit is absent (or 0).
const defaultPage = 100

// searchRequest is a Search request: the entities, with the searched one's
// id left out, and the page.
type searchRequest struct {
	Subject  *subject  `json:"subject"`
	Action   *action   `json:"action"`
	Resource *resource `json:"resource"`
	Context  *context  `json:"context"`
	Page     *struct {
		Token *string `json:"token"`
		Limit *int64  `json:"limit"`
	} `json:"page"`
}

// page is a Search answer's page.
type page struct {
	NextToken string `json:"next_token"`
	Count     int    `json:"count"`
}

// entityResult is a Subject or a Resource found.
type entityResult struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties,omitempty"`
}

// actionResult is an Action found.
type actionResult struct {
	Name string `json:"name"`
}

// paging reads the request's page: its limit, where it starts (the
// token's cursor; nil for the first page). kind tells the searches apart,
// so that a token of one is no token of another.
func (s *Service) paging(in *searchRequest, caller team.Actor, kind byte) (limit int, cursor []byte, next func([]byte) string, err error) {
	var digest [8]byte
	limit = defaultPage
	var token *string
	if in.Page != nil {
		token = in.Page.Token
		if l := in.Page.Limit; l != nil {
			switch {
			case *l < 0 || *l > team.MaxSearchPage:
				return 0, nil, nil, badRequest("authzen.limit_invalid", map[string]any{"max": team.MaxSearchPage})
			case *l > 0:
				limit = int(*l)
			}
		}
	}
	digest = in.digest(kind, limit)
	label := tokenLabel(caller, digest)
	next = func(cursor []byte) string {
		sealed, _ := s.Team.Secrets.Seal(cursor, label)
		return base64.RawURLEncoding.EncodeToString(append(digest[:], sealed...))
	}
	if token == nil || *token == "" {
		return limit, nil, next, nil
	}
	raw, e := base64.RawURLEncoding.DecodeString(*token)
	if e != nil || len(raw) < 8 || [8]byte(raw[:8]) != digest {
		return 0, nil, nil, badRequest("authzen.token_invalid", nil)
	}
	cursor, _, e = s.Team.Secrets.Open(raw[8:], s.Team.Secrets.KeyID(), label)
	if e != nil {
		return 0, nil, nil, badRequest("authzen.token_invalid", nil)
	}
	return limit, cursor, next, nil
}

// tokenLabel binds a page token to the request it belongs to and to the
// key that asked.
func tokenLabel(caller team.Actor, digest [8]byte) string {
	var key string
	if caller.Key != nil {
		key = caller.Key.ID.String()
	}
	return "authzen page\x00" + key + "\x00" + string(digest[:])
}

// digest sums up what a token's request must keep: the entities and the
// limit (as equipe read them), and the kind of search.
func (in *searchRequest) digest(kind byte, limit int) [8]byte {
	copyOf := *in
	copyOf.Page = nil
	b, _ := json.Marshal(copyOf, json.Deterministic(true))
	h := sha256.New()
	h.Write([]byte{kind})
	h.Write(binary.AppendVarint(nil, int64(limit)))
	h.Write(b)
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (s *Service) searchSubject(w http.ResponseWriter, r *http.Request, caller team.Actor, body []byte) error {
	var in searchRequest
	if err := unmarshal(body, &in); err != nil {
		return err
	}
	if err := in.Subject.check("subject", false); err != nil {
		return err
	}
	if err := in.Action.check("action"); err != nil {
		return err
	}
	if err := in.Resource.check("resource", true); err != nil {
		return err
	}
	limit, cursor, next, err := s.paging(&in, caller, 's')
	if err != nil {
		return err
	}
	var after *equipe.ID
	if cursor != nil {
		id, e := equipe.ParseID(string(cursor))
		if e != nil {
			return badRequest("authzen.token_invalid", nil)
		}
		after = &id
	}
	out := struct {
		Page    page           `json:"page"`
		Results []entityResult `json:"results"`
	}{Results: []entityResult{}}
	if *in.Subject.Type == SubjectUser {
		// The question as for any subject; the subject is each member.
		anyone := "00000000-0000-0000-0000-000000000000"
		q, err := s.evaluationOf(caller, &subject{Type: in.Subject.Type, ID: &anyone}, in.Action, in.Resource, in.Context)
		if err != nil {
			return err
		}
		if q.known == nil {
			found, more, err := s.Team.PermittedMembers(r.Context(), caller, q.q, after, limit)
			if err != nil {
				return err
			}
			for _, m := range found {
				e := entityResult{Type: SubjectUser, ID: m.User.String()}
				if m.ExternalID != "" {
					e.Properties = map[string]any{"external_id": m.ExternalID}
				}
				out.Results = append(out.Results, e)
			}
			if more {
				out.Page.NextToken = next([]byte(found[len(found)-1].User.String()))
			}
		}
	}
	out.Page.Count = len(out.Results)
	return respond(w, out)
}

func (s *Service) searchResource(w http.ResponseWriter, r *http.Request, caller team.Actor, body []byte) error {
	var in searchRequest
	if err := unmarshal(body, &in); err != nil {
		return err
	}
	if err := in.Subject.check("subject", true); err != nil {
		return err
	}
	if err := in.Action.check("action"); err != nil {
		return err
	}
	if err := in.Resource.check("resource", false); err != nil {
		return err
	}
	limit, cursor, next, err := s.paging(&in, caller, 'r')
	if err != nil {
		return err
	}
	var after *equipe.ID
	if cursor != nil {
		id, e := equipe.ParseID(string(cursor))
		if e != nil {
			return badRequest("authzen.token_invalid", nil)
		}
		after = &id
	}
	out := struct {
		Page    page           `json:"page"`
		Results []entityResult `json:"results"`
	}{Results: []entityResult{}}
	// Only the account's resources can be listed: the vendor's records
	// (types the catalogue does not declare) are the vendor's to know.
	typ := *in.Resource.Type
	if typ == ResourceAccount && cursor == nil {
		// The account itself, which the evaluation knows as a resource.
		q, err := s.evaluationOf(caller, in.Subject, in.Action, &resource{Type: &typ, Properties: in.Resource.Properties}, in.Context)
		if err != nil {
			return err
		}
		if q.known == nil {
			d, err := s.Team.Check(r.Context(), caller, q.q)
			if err != nil {
				return err
			}
			if d.Allowed {
				out.Results = append(out.Results, entityResult{Type: ResourceAccount, ID: q.q.Account.String()})
			}
		}
	}
	if _, declared := s.Catalogue.ResourceType(typ); declared {
		// The question as for the account (no resource); each resource
		// of the type is then asked about.
		acct := ResourceAccount
		q, err := s.evaluationOf(caller, in.Subject, in.Action, &resource{Type: &acct, Properties: in.Resource.Properties}, in.Context)
		if err != nil {
			return err
		}
		if q.known == nil {
			found, more, err := s.Team.PermittedResources(r.Context(), caller, q.q, typ, after, limit)
			if err != nil {
				return err
			}
			for _, rs := range found {
				props := map[string]any{"name": rs.Name}
				if rs.ExternalID != "" {
					props["external_id"] = rs.ExternalID
				}
				out.Results = append(out.Results, entityResult{Type: rs.Type, ID: rs.ID.String(), Properties: props})
			}
			if more {
				out.Page.NextToken = next([]byte(found[len(found)-1].ID.String()))
			}
		}
	}
	out.Page.Count = len(out.Results)
	return respond(w, out)
}

func (s *Service) searchAction(w http.ResponseWriter, r *http.Request, caller team.Actor, body []byte) error {
	var in searchRequest
	if err := unmarshal(body, &in); err != nil {
		return err
	}
	if err := in.Subject.check("subject", true); err != nil {
		return err
	}
	if err := in.Resource.check("resource", true); err != nil {
		return err
	}
	in.Action = nil // the specification leaves it out; one given is ignored
	limit, cursor, next, err := s.paging(&in, caller, 'a')
	if err != nil {
		return err
	}
	start := 0
	if cursor != nil {
		if len(cursor) != 4 {
			return badRequest("authzen.token_invalid", nil)
		}
		start = int(binary.BigEndian.Uint32(cursor))
	}
	out := struct {
		Page    page           `json:"page"`
		Results []actionResult `json:"results"`
	}{Results: []actionResult{}}
	any := "any"
	q, err := s.evaluationOf(caller, in.Subject, &action{Name: &any}, in.Resource, in.Context)
	if err != nil {
		return err
	}
	if q.known == nil {
		keys, err := s.Team.PermittedPermissions(r.Context(), caller, q.q)
		if err != nil {
			return err
		}
		if start > len(keys) {
			start = len(keys)
		}
		end := min(start+limit, len(keys))
		for _, k := range keys[start:end] {
			out.Results = append(out.Results, actionResult{Name: k})
		}
		if end < len(keys) {
			out.Page.NextToken = next(binary.BigEndian.AppendUint32(nil, uint32(end)))
		}
	}
	out.Page.Count = len(out.Results)
	return respond(w, out)
}
