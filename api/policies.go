package api

import (
	"net/http"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/identity"
)

type publishPolicyRequest struct {
	Version     string            `json:"version"`
	Label       string            `json:"label"`
	URL         string            `json:"url"`
	Texts       map[string]string `json:"texts"`
	EffectiveAt *time.Time        `json:"effective_at"`
}

// policyVersionView is a published version of the policy, for an instance
// administrator.
type policyVersionView struct {
	policyView
	EffectiveAt time.Time `json:"effective_at"`
	Current     bool      `json:"current"`
	Acceptances int       `json:"acceptances"`
}

func (a *API) viewPolicyVersion(r *http.Request, v identity.PolicyVersion) policyVersionView {
	locale := a.locale(r)
	return policyVersionView{policyView: viewPolicy(v.PrivacyPolicy, locale, a.I18n.PolicyLabel(locale, v.PrivacyPolicy)),
		EffectiveAt: v.EffectiveAt, Current: v.Current, Acceptances: v.Acceptances}
}

func (a *API) publishPolicy(w http.ResponseWriter, r *http.Request) error {
	var in publishPolicyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	auth, _ := httpauth.Auth(r)
	np := identity.NewPolicy{Version: in.Version, Label: in.Label, URL: in.URL, Texts: in.Texts}
	if in.EffectiveAt != nil {
		np.EffectiveAt = *in.EffectiveAt
	}
	p, err := a.Identity.PublishPolicyAs(r.Context(), auth.User, np, httpauth.Origin(r))
	if err != nil {
		return err
	}
	cur, _ := a.Identity.CurrentPolicy(r.Context())
	w.Header().Set("Location", "/api/v1/privacy-policies/"+p.Version+"/acceptances")
	return respond(w, http.StatusCreated, a.viewPolicyVersion(r, identity.PolicyVersion{PrivacyPolicy: p, Current: cur.Version == p.Version}))
}

func (a *API) withdrawPolicy(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	if err := a.Identity.WithdrawPolicyAs(r.Context(), auth.User, r.PathValue("version"), httpauth.Origin(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) policies(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	vs, next, err := a.Identity.Policies(r.Context(), auth.User, p)
	if err != nil {
		return err
	}
	out := newList[policyVersionView](len(vs), next)
	for _, v := range vs {
		out.Items = append(out.Items, a.viewPolicyVersion(r, v))
	}
	return respond(w, http.StatusOK, out)
}

// acceptanceView is a person's acceptance of a version of the policy.
type acceptanceView struct {
	UserID     equipe.ID `json:"user_id"`
	Email      string    `json:"email"`
	FirstName  string    `json:"first_name"`
	LastName   string    `json:"last_name"`
	AcceptedAt time.Time `json:"accepted_at"`
	IP         string    `json:"ip"`
}

func (a *API) policyAcceptances(w http.ResponseWriter, r *http.Request) error {
	auth, _ := httpauth.Auth(r)
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	rows, next, err := a.Identity.Acceptances(r.Context(), auth.User, r.PathValue("version"), p)
	if err != nil {
		return err
	}
	out := newList[acceptanceView](len(rows), next)
	for _, x := range rows {
		out.Items = append(out.Items, acceptanceView{UserID: x.UserID, Email: x.Email, FirstName: x.FirstName,
			LastName: x.LastName, AcceptedAt: x.AcceptedAt, IP: x.IP})
	}
	return respond(w, http.StatusOK, out)
}
