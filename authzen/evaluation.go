package authzen

import (
	"net/http"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// evaluationRequest is the Access Evaluation request.
type evaluationRequest struct {
	Subject  *subject  `json:"subject"`
	Action   *action   `json:"action"`
	Resource *resource `json:"resource"`
	Context  *context  `json:"context"`
}

// evaluate answers one evaluation whose entities are present.
func (s *Service) evaluate(r *http.Request, caller team.Actor, e evaluationRequest) (access.Decision, error) {
	q, err := s.evaluationOf(caller, e.Subject, e.Action, e.Resource, e.Context)
	if err != nil {
		return access.Decision{}, err
	}
	if q.known != nil {
		return *q.known, nil
	}
	return s.Team.Check(r.Context(), caller, q.q)
}

// required checks that an evaluation has its three entities, with what
// each requires.
func (e evaluationRequest) required() error {
	if err := e.Subject.check("subject", true); err != nil {
		return err
	}
	if err := e.Action.check("action"); err != nil {
		return err
	}
	return e.Resource.check("resource", true)
}

func (s *Service) evaluation(w http.ResponseWriter, r *http.Request, caller team.Actor, body []byte) error {
	var d access.Decision
	if q, plain := s.plainQuestion(body, caller); plain {
		var err error
		if d, err = s.Team.Check(r.Context(), caller, q); err != nil {
			return err
		}
	} else {
		var in evaluationRequest
		if err := unmarshal(body, &in); err != nil {
			return err
		}
		if err := in.required(); err != nil {
			return err
		}
		var err error
		if d, err = s.evaluate(r, caller, in); err != nil {
			return err
		}
	}
	buf := getBuf()
	defer putBuf(buf)
	buf.Write(appendDecision(buf.AvailableBuffer(), d))
	return respondJSON(w, buf.Bytes())
}

// appendDecision appends a Decision: {"decision": …, "context": {"reason":
// …}}, the reason being the stable code of POST /api/v1/check. It is
// written by hand: this answer is written tens of thousands of times a
// second.
func appendDecision(b []byte, d access.Decision) []byte {
	b = append(b, `{"decision":`...)
	b = strconv.AppendBool(b, d.Allowed)
	b = append(b, `,"context":{"reason":`...)
	b, _ = jsontext.AppendQuote(b, string(d.Reason))
	return append(b, "}}"...)
}

// The batch's semantics (options.evaluations_semantic).
const (
	ExecuteAll          = "execute_all"
	DenyOnFirstDeny     = "deny_on_first_deny"
	PermitOnFirstPermit = "permit_on_first_permit"
)

// evaluationsRequest is the Access Evaluations request: defaults at the top
// level, which each evaluation's own entities override.
type evaluationsRequest struct {
	evaluationRequest `json:",inline"`
	Evaluations       []evaluationRequest `json:"evaluations"`
	Options           *struct {
		Semantic *string `json:"evaluations_semantic"`
	} `json:"options"`
}

// itemResult is one evaluation's answer in a batch.
type itemResult struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

func (s *Service) evaluations(w http.ResponseWriter, r *http.Request, caller team.Actor, body []byte) error {
	var in evaluationsRequest
	if err := unmarshal(body, &in); err != nil {
		return err
	}
	semantic := ExecuteAll
	if in.Options != nil && in.Options.Semantic != nil {
		semantic = *in.Options.Semantic
		switch semantic {
		case ExecuteAll, DenyOnFirstDeny, PermitOnFirstPermit:
		default:
			return badRequest("authzen.semantic_invalid", map[string]any{"semantic": semantic})
		}
	}
	// Without evaluations, the request is one evaluation, answered as the
	// Access Evaluation API answers it.
	if len(in.Evaluations) == 0 {
		return s.evaluation(w, r, caller, body)
	}
	if len(in.Evaluations) > maxBatch {
		return badRequest("authzen.too_many", map[string]any{"max": maxBatch})
	}
	// Every evaluation, with the defaults, has its entities: else the
	// request is refused as a whole, before anything is evaluated.
	items := make([]evaluationRequest, len(in.Evaluations))
	for i, e := range in.Evaluations {
		if e.Subject == nil {
			e.Subject = in.Subject
		}
		if e.Action == nil {
			e.Action = in.Action
		}
		if e.Resource == nil {
			e.Resource = in.Resource
		}
		if e.Context == nil {
			e.Context = in.Context
		}
		if err := e.required(); err != nil {
			re := err.(*reqError)
			re.key, re.args = "authzen.item_required", map[string]any{"member": re.args["member"], "index": i}
			return re
		}
		items[i] = e
	}
	out := struct {
		Evaluations []itemResult `json:"evaluations"`
	}{Evaluations: make([]itemResult, 0, len(items))}
	locale := ""
	for _, e := range items {
		d, err := s.evaluate(r, caller, e)
		var res itemResult
		switch {
		case err != nil:
			if _, ok := err.(*reqError); !ok {
				return err // a fault of the service: the whole request fails
			}
			if locale == "" {
				locale = acceptLocale(r)
			}
			re := err.(*reqError)
			res.Context = map[string]any{"error": map[string]any{"status": statusOf(err),
				"message": s.I18n.T(locale, re.key, re.args), "code": re.key}}
		default:
			res = itemResult{Decision: d.Allowed, Context: map[string]any{"reason": string(d.Reason)}}
		}
		stop := (semantic == DenyOnFirstDeny && !res.Decision) || (semantic == PermitOnFirstPermit && res.Decision)
		if stop && semantic == DenyOnFirstDeny {
			// As the specification's example: the denial that ended the
			// batch says so; its own reason (or error) follows.
			ctx := map[string]any{"code": "200", "reason": DenyOnFirstDeny}
			if why, ok := res.Context["reason"]; ok {
				ctx["cause"] = why
			} else {
				ctx["error"] = res.Context["error"]
			}
			res.Context = ctx
		}
		out.Evaluations = append(out.Evaluations, res)
		if stop {
			break
		}
	}
	return respond(w, out)
}
