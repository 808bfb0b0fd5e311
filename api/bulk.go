package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// bulkRequest is a bulk action on members: the members named by users, or
// every member filter selects (the members list's filters).
type bulkRequest struct {
	Action string      `json:"action"`
	Role   string      `json:"role"`
	Users  []string    `json:"users"`
	Filter *bulkFilter `json:"filter"`
	DryRun bool        `json:"dry_run"`
}

type bulkFilter struct {
	Status   string `json:"status"`
	Role     string `json:"role"`
	Resource string `json:"resource"`
	Client   string `json:"client"`
	Q        string `json:"q"`
}

// query is the filter as the members list's query writes it.
func (f bulkFilter) query() url.Values {
	q := url.Values{}
	for name, value := range map[string]string{"status": f.Status, "role": f.Role, "resource": f.Resource,
		"client": f.Client, "q": f.Q} {
		if value != "" {
			q.Set(name, value)
		}
	}
	return q
}

// bulkView is what a bulk action did, or would do (dry_run), to each
// member, in the order of the request.
type bulkView struct {
	Action  string           `json:"action"`
	DryRun  bool             `json:"dry_run"`
	Done    int              `json:"done"`
	Skipped int              `json:"skipped"`
	Results []bulkResultView `json:"results"`
}

type bulkResultView struct {
	User    string `json:"user"`
	Outcome string `json:"outcome"` // done or skipped
	Code    string `json:"code,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// RetryAfter is how long, in seconds, a throttle that stopped the
	// member's change lasts.
	RetryAfter int `json:"retry_after,omitzero"`
}

func (a *API) bulkMembers(w http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	var in bulkRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	b := team.Bulk{Action: in.Action, Role: in.Role}
	var v equipe.Invalid
	for _, s := range in.Users {
		id, err := equipe.ParseID(s)
		if err != nil {
			v.Add("users", "bulk.user_invalid")
			break
		}
		b.Users = append(b.Users, id)
	}
	if in.Filter != nil {
		f, err := team.ParseMemberQuery(account, in.Filter.query())
		if err != nil && !v.AddWithin("filter", err) {
			return err
		}
		b.Filter = &f
	}
	if err := v.Err(); err != nil {
		return err
	}
	run := a.Team.ApplyBulk
	if in.DryRun {
		run = a.Team.PlanBulk
	}
	res, err := run(r.Context(), actor(r), account, b)
	if err != nil {
		return err
	}
	locale := a.locale(r)
	out := bulkView{Action: res.Action, DryRun: in.DryRun, Done: res.Done, Skipped: res.Skipped,
		Results: make([]bulkResultView, 0, len(res.Outcomes))}
	for _, o := range res.Outcomes {
		rv := bulkResultView{User: o.User.String(), Outcome: "done"}
		if !o.Done() {
			rv.Outcome, rv.Code = "skipped", o.Code()
			args := map[string]any{}
			for k, v := range o.Err.Args {
				args[k] = v
			}
			if o.Err.Code == equipe.ERATELIMITED {
				args["duration"] = a.I18n.Wait(locale, o.Err.RetryAfter)
				rv.RetryAfter = max(1, int((o.Err.RetryAfter+time.Second-1)/time.Second))
			}
			rv.Detail = a.I18n.T(locale, o.Code(), args)
		}
		out.Results = append(out.Results, rv)
	}
	return respond(w, http.StatusOK, out)
}
