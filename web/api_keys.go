package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/team"
)

// keyNotices are the notices the API keys pages may show after a redirect.
var keyNotices = map[string]string{
	"revoked": "api_key.revoked",
}

// keysURL is the page of the account's API keys, or of the instance's when
// account is nil.
func keysURL(account *equipe.ID) string {
	if account == nil {
		return "/admin/api-keys"
	}
	return "/accounts/" + account.String() + "/api-keys"
}

type keysPage struct {
	Frame *accountFrame // nil for the instance's keys
	URL   string        // the page, where its form posts
	Keys  []keyLine
	Roles []option // for account keys: the roles a key may act with
	// Purposes, for account keys: what a key is for (the API, SCIM).
	Purposes []option
	// Refusal says why the reader may not create a key, as CreateKey would
	// answer; empty when they may, and the form is shown.
	Refusal string
}

type keyLine struct {
	Name       string
	Prefix     string
	Role       string
	CreatedAt  time.Time
	LastUsedAt time.Time
	RevokedAt  time.Time
	// Why says why a key does not act: revoked by the service (its creator
	// left), or inactive (its creator is suspended, gone, disabled).
	Why      string
	Narrowed bool   // it acts with no more than its creator's rights, which are fewer than its role's
	SCIM     bool   // the key is made for SCIM provisioning alone
	Revoke   string // the revocation's confirmation page, for a key not revoked
}

// keysFrame returns the account frame of an account's key page, nil for
// the instance's.
func (w *Web) keysFrame(r *http.Request, account *equipe.ID) (*accountFrame, error) {
	if account == nil {
		return nil, nil
	}
	f, err := w.frame(r, *account, "api_keys")
	return &f, err
}

// showKeys shows the API keys of the account (nil: of the instance) with the
// form that creates one.
func (w *Web) showKeys(rw http.ResponseWriter, r *http.Request, account *equipe.ID, f *form, status int) error {
	act := actor(r)
	keys, _, err := w.Team.Keys(r.Context(), act, account, equipe.Page{})
	if err != nil {
		return w.refuse(rw, r, err)
	}
	var roles []team.RoleView
	if account != nil {
		roles, err = w.Team.Roles(r.Context(), act, *account)
		if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
			// Someone who manages keys without seeing the team still picks
			// among the built-in roles.
			roles, err = nil, nil
			for _, ro := range w.Catalogue.Roles {
				roles = append(roles, team.RoleView{Role: ro})
			}
		}
		if err != nil {
			return err
		}
	}
	frame, err := w.keysFrame(r, account)
	if err != nil {
		return err
	}
	title := "page.api_keys"
	if account == nil {
		title = "page.instance_api_keys"
	}
	p := w.page(r, title)
	if f != nil {
		p.Form = f
	}
	p.Notice = keyNotices[r.URL.Query().Get("done")]
	labels := roleLabels(roles, p.Locale)
	d := keysPage{Frame: frame, URL: keysURL(account)}
	may := w.Team.MayCreateInstanceKey(r.Context(), act)
	if account != nil {
		as, err := w.accountActions(r, *account)
		if err != nil {
			return err
		}
		may = as.Get(team.AccountCreateKey)
	}
	if !may.OK() {
		d.Refusal = w.I18n.T(p.Locale, may.Err.Key, may.Err.Args)
	}
	for _, k := range keys {
		l := keyLine{Name: k.Name, Prefix: k.Prefix, Role: labels[k.Role], CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt,
			RevokedAt: k.RevokedAt, Narrowed: k.Narrowed, SCIM: k.Purpose == equipe.KeySCIM}
		if l.Role == "" {
			l.Role = k.Role
		}
		switch {
		case k.Inactive != "":
			l.Why = w.I18n.T(p.Locale, k.Inactive, nil)
		case k.RevokedReason != "" && w.I18n.Has(k.RevokedReason):
			l.Why = w.I18n.T(p.Locale, k.RevokedReason, nil)
		}
		if k.Actions.May(team.KeyRevoke) {
			l.Revoke = keysURL(account) + "/" + k.ID.String() + "/revoke"
		}
		d.Keys = append(d.Keys, l)
	}
	chosen := p.Form.Value("role")
	for _, ro := range roles {
		d.Roles = append(d.Roles, option{Value: ro.Role.Key, Label: roleName(ro.Role, p.Locale), Selected: ro.Role.Key == chosen})
	}
	purpose := p.Form.Value("purpose")
	for _, pu := range []struct{ value, label string }{{"api", "keys.purpose_api"}, {"scim", "keys.purpose_scim"}} {
		d.Purposes = append(d.Purposes, option{Value: pu.value, Label: w.I18n.T(p.Locale, pu.label, nil), Selected: pu.value == purpose})
	}
	p.Data = d
	return w.render(rw, r, status, "api_keys", p)
}

func (w *Web) accountKeys(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.showKeys(rw, r, &account, nil, http.StatusOK)
}

func (w *Web) instanceKeys(rw http.ResponseWriter, r *http.Request) error {
	return w.showKeys(rw, r, nil, nil, http.StatusOK)
}

type keyCreatedPage struct {
	Frame  *accountFrame
	Name   string
	Secret string
	Back   string
}

// keyPurpose reads a key's purpose as the form names it, in the API's words:
// "api" (or nothing) for the JSON API, "scim" for the SCIM service.
func keyPurpose(name string) string {
	if name == "api" {
		return equipe.KeyAPI
	}
	return name
}

// createKey creates a key and shows its secret, the only time anyone sees
// it: the answer to the post itself, never a page a link or a reload could
// bring back.
func (w *Web) createKey(rw http.ResponseWriter, r *http.Request, account *equipe.ID) error {
	k, secret, err := w.Team.CreateKey(r.Context(), actor(r), account, team.NewKey{Name: r.PostFormValue("name"), Role: r.PostFormValue("role"),
		Purpose: keyPurpose(r.PostFormValue("purpose"))})
	if err != nil {
		f := newForm()
		f.keep(r, "name", "role", "purpose")
		if !w.absorbRefusal(f, err, "role") {
			return w.refuse(rw, r, err)
		}
		if e := f.Err("role"); e != nil && e.Key == "role.unknown" && strings.TrimSpace(f.Value("role")) == "" {
			// No role chosen: the form asks for one, rather than saying
			// that "" is no role of the account.
			f.Errors["role"] = fieldError{Key: "keys.role_required"}
		}
		f.arrange("name", "role", "purpose")
		f.label("name", "keys.name", "role", "keys.role", "purpose", "keys.purpose")
		return w.showKeys(rw, r, account, f, refusedStatus(err))
	}
	frame, err := w.keysFrame(r, account)
	if err != nil {
		return err
	}
	tokenPage(rw)
	p := w.page(r, "page.api_key_created")
	p.Data = keyCreatedPage{Frame: frame, Name: k.Name, Secret: secret, Back: keysURL(account)}
	return w.render(rw, r, http.StatusCreated, "api_key_created", p)
}

func (w *Web) createAccountKey(rw http.ResponseWriter, r *http.Request) error {
	account, err := pathID(r, "account")
	if err != nil {
		return err
	}
	return w.createKey(rw, r, &account)
}

func (w *Web) createInstanceKey(rw http.ResponseWriter, r *http.Request) error {
	return w.createKey(rw, r, nil)
}
