package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/mail/mailtest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

func addMember(t *testing.T, tn tenant, token string, body map[string]any) response {
	t.Helper()
	return call(t, tn.env.Client(), "POST", tn.url("/members"), body, bearer(token)...)
}

func newMemberBody(email string, extra ...any) map[string]any {
	b := map[string]any{"email": email, "first_name": "Grace", "last_name": "Hopper", "role": "collaborator", "send_invitation": true}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

func TestTeam_NewUserIsInvitedAcceptsAndTheInviterIsTold(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := addMember(t, a, a.admin, newMemberBody("grace@b.example", "title", "Salarié", "locale", "fr"))
		if r.Status != 201 || r.JSON["status"] != "invited" || r.JSON["invitations_sent"] != float64(1) {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		user := r.JSON["user_id"].(string)
		m := env.Mail(t, "grace@b.example", "invitation")
		if !strings.Contains(m.Subject, "Analytical Engines") && !strings.Contains(m.Text, "Analytical Engines") {
			t.Fatalf("the invitation does not name the account: %q", m.Subject)
		}
		if !strings.Contains(m.Text, "Ada Lovelace") || !strings.Contains(m.Text, "indésirables") && !strings.Contains(m.Text, "spam") {
			t.Fatalf("the invitation lacks the inviter or the spam hint:\n%s", m.Text)
		}
		link := apptest.Link(t, m, "/invitations/")
		secret := apptest.Secret(link)
		// What the link is for, without using it.
		info := call(t, env.Client(), "GET", env.URL+"/api/v1/invitations/"+secret, nil)
		if info.Status != 200 || info.JSON["account_name"] != "Analytical Engines" || info.JSON["inviter_name"] != "Ada Lovelace" ||
			info.JSON["new_user"] != true || info.JSON["first_name"] != "Grace" {
			t.Fatalf("invitation: %d %s", info.Status, info.Raw)
		}
		// Refused acceptances use nothing.
		accept := func(body map[string]any, headers ...string) response {
			return call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept", body, headers...)
		}
		if r := accept(map[string]any{"password": "short", "accept_privacy_policy": true}); r.Status != 422 || r.fieldCodes()["password"] != "password.too_short" {
			t.Fatalf("short password: %d %s", r.Status, r.Raw)
		}
		other := env.AddMember(t, a.account, "other@a.example", "guest", equipe.MemberActive)
		if r := accept(map[string]any{"password": "the first compiler of all", "accept_privacy_policy": true}, bearer(other.Token)...); r.Status != 409 ||
			r.code() != "invitation.other_user" {
			t.Fatalf("accepted as someone else: %d %s", r.Status, r.Raw)
		}
		r = accept(map[string]any{"password": "the first compiler of all", "first_name": "Grace B.", "accept_privacy_policy": true})
		if r.Status != 200 || r.JSON["token"] == nil {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		// The link came to the address: the answer says it is verified.
		if u, _ := r.JSON["user"].(map[string]any); u == nil || u["email_verified"] != true || u["email_verified_at"] == nil {
			t.Fatalf("the user after accepting: %s", r.Raw)
		}
		token := r.JSON["token"].(string)
		// Joined, consented, logged in.
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...); r.Status != 200 || len(r.JSON["items"].([]any)) != 1 {
			t.Fatalf("accounts of the new member: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members/"+user), nil, bearer(a.admin)...); r.JSON["status"] != "active" || r.JSON["first_name"] != "Grace B." {
			t.Fatalf("member after joining: %s", r.Raw)
		}
		// Accepting logged her in: the team page does not say "never logged in".
		list := call(t, env.Client(), "GET", a.url("/members?q=grace"), nil, bearer(a.admin)...)
		if items, _ := list.JSON["items"].([]any); len(items) != 1 || items[0].(map[string]any)["never_logged_in"] != false {
			t.Fatalf("team list after joining: %s", list.Raw)
		}
		env.Mail(t, "owner@a.example", "inviter_confirmation")
		// The link works once.
		if r := accept(map[string]any{"password": "another compiler entirely", "accept_privacy_policy": true}); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("second use: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/invitations/"+secret, nil); r.Status != 410 || r.JSON["status"] != "used" || r.JSON["account_name"] != "Analytical Engines" {
			t.Fatalf("used link info: %d %s", r.Status, r.Raw)
		}
		// Re-inviting someone who joined is refused.
		if r := call(t, env.Client(), "POST", a.url("/members/"+user+"/invitation"), nil, bearer(a.admin)...); r.Status != 409 || r.code() != "invitation.already_joined" {
			t.Fatalf("re-invite after joining: %d %s", r.Status, r.Raw)
		}
	})
}

// TestTeam_AcceptingThroughTheAPIKeepsTheLanguageAsked: the person who
// joins through the API keeps the language they give, else the one
// Accept-Language asks for; a language the service does not speak is
// refused beside its field, and the link still works afterwards.
func TestTeam_AcceptingThroughTheAPIKeepsTheLanguageAsked(t *testing.T) {
	tests := []struct {
		name, locale, header, want string
	}{
		{name: "the language given", locale: "en", header: "fr", want: "en"},
		{name: "the one Accept-Language asks for", header: "en-GB,en;q=0.8", want: "en"},
	}
	each(t, func(t *testing.T, env *apptest.Env) {
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := newTenant(t, env, fmt.Sprintf("owner%d@a.example", i))
				email := fmt.Sprintf("grace%d@b.example", i)
				if r := addMember(t, a, a.admin, newMemberBody(email)); r.Status != 201 {
					t.Fatalf("add: %d %s", r.Status, r.Raw)
				}
				secret := apptest.Secret(apptest.Link(t, env.Mail(t, email, "invitation"), "/invitations/"))
				accept := func(body map[string]any) response {
					return call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept", body, "Accept-Language", tt.header)
				}
				body := map[string]any{"password": "the first compiler of all", "accept_privacy_policy": true, "locale": "de"}
				if r := accept(body); r.Status != 422 || r.fieldCodes()["locale"] != "locale.invalid" {
					t.Fatalf("a language not spoken: %d %s", r.Status, r.Raw)
				}
				delete(body, "locale")
				if tt.locale != "" {
					body["locale"] = tt.locale
				}
				r := accept(body)
				if r.Status != 200 {
					t.Fatalf("accept: %d %s", r.Status, r.Raw)
				}
				if u, _ := r.JSON["user"].(map[string]any); u == nil || u["locale"] != tt.want {
					t.Fatalf("their language: %s", r.Raw)
				}
			})
		}
	})
}

// TestTeam_AddedByEmailAloneGivesTheirNamesThenAcceptsThePolicy plays seed
// 004 through the API: only the email is needed to add someone; the team
// list names them by it; accepting asks for the names the account did not
// give; the privacy policy may be left for the next step, and until it is
// accepted other calls answer 403.
func TestTeam_AddedByEmailAloneGivesTheirNamesThenAcceptsThePolicy(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := addMember(t, a, a.admin, map[string]any{"email": "dev@agence.example", "role": "collaborator", "send_invitation": true})
		if r.Status != 201 || r.JSON["first_name"] != "" || r.JSON["last_name"] != "" || r.JSON["email"] != "dev@agence.example" {
			t.Fatalf("add with the email alone: %d %s", r.Status, r.Raw)
		}
		user := r.JSON["user_id"].(string)
		if r := addMember(t, a, a.admin, map[string]any{"email": "", "role": "collaborator"}); r.Status != 422 || r.fieldCodes()["email"] == "" ||
			r.fieldCodes()["first_name"] != "" {
			t.Fatalf("add with nothing: %d %s", r.Status, r.Raw)
		}
		secret := apptest.Secret(apptest.Link(t, env.Mail(t, "dev@agence.example", "invitation"), "/invitations/"))
		if info := call(t, env.Client(), "GET", env.URL+"/api/v1/invitations/"+secret, nil); info.JSON["first_name"] != "" {
			t.Fatalf("invitation: %s", info.Raw)
		}
		accept := func(body map[string]any) response {
			return call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept", body)
		}
		if r := accept(map[string]any{"password": "un site web rapide et sobre"}); r.Status != 422 ||
			r.fieldCodes()["first_name"] != "name.required" || r.fieldCodes()["last_name"] != "name.required" {
			t.Fatalf("accept without names: %d %s", r.Status, r.Raw)
		}
		r = accept(map[string]any{"password": "un site web rapide et sobre", "first_name": "Dev", "last_name": "Agence"})
		if r.Status != 200 || r.JSON["token"] == nil {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		token := r.JSON["token"].(string)
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(token)...); r.Status != 403 ||
			r.JSON["type"] != "urn:equipe:problem:consent-required" {
			t.Fatalf("before the policy: %d %s", r.Status, r.Raw)
		}
		pol := call(t, env.Client(), "GET", env.URL+"/api/v1/privacy-policy", nil, "Accept-Language", "en")
		if texts, _ := pol.JSON["texts"].(map[string]any); pol.JSON["text"] != "Test policy." || texts["fr"] != "Politique de test." {
			t.Fatalf("policy in English: %s", pol.Raw)
		}
		// Its label names it for people, in their language, never by its version.
		if l, _ := pol.JSON["label"].(string); !strings.HasPrefix(l, "Version of ") || strings.Contains(l, "2026-11") {
			t.Errorf("label in English: %q", l)
		}
		if l, _ := call(t, env.Client(), "GET", env.URL+"/api/v1/privacy-policy", nil, "Accept-Language", "fr").JSON["label"].(string); !strings.HasPrefix(l, "Version du ") {
			t.Errorf("label in French: %q", l)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/me/consent", map[string]any{"accept_privacy_policy": true, "version": "2026-11"},
			bearer(token)...); r.Status != 200 {
			t.Fatalf("consent: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members/"+user), nil, bearer(a.admin)...); r.JSON["status"] != "active" ||
			r.JSON["first_name"] != "Dev" || r.JSON["last_name"] != "Agence" {
			t.Fatalf("member after joining: %s", r.Raw)
		}
	})
}

func TestTeam_ExistingUserJoinsWithoutAResetAndIsNotRevealed(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		b := newTenant(t, env, "owner@b.example") // Ada Lovelace owns B too, under another email
		// A adds B's owner, typing other names: A must not learn the real ones.
		r := addMember(t, a, a.admin, newMemberBody("OWNER@b.example", "first_name", "Partner", "last_name", "From B"))
		if r.Status != 201 || r.JSON["first_name"] != "Partner" || r.JSON["last_name"] != "From B" || r.JSON["last_login_at"] != nil {
			t.Fatalf("add an existing identity: %d %s", r.Status, r.Raw)
		}
		user := r.JSON["user_id"].(string)
		list := call(t, env.Client(), "GET", a.url("/members?q=partner"), nil, bearer(a.admin)...)
		if items := list.JSON["items"].([]any); len(items) != 1 || strings.Contains(string(list.Raw), "Lovelace\",\"role\":\"collaborator") {
			t.Fatalf("team list: %s", list.Raw)
		}
		m := env.Mail(t, "owner@b.example", "access_granted")
		secret := apptest.Secret(apptest.Link(t, m, "/invitations/"))
		if info := call(t, env.Client(), "GET", env.URL+"/api/v1/invitations/"+secret, nil); info.JSON["new_user"] != false {
			t.Fatalf("info: %s", info.Raw)
		}
		accept := func(headers ...string) response {
			return call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept", map[string]any{}, headers...)
		}
		if r := accept(); r.Status != 401 || r.code() != "invitation.login_required" {
			t.Fatalf("accept without logging in: %d %s", r.Status, r.Raw)
		}
		if r := accept(bearer(b.admin)...); r.Status != 200 || r.JSON["token"] != nil {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		// Their password is untouched, and both accounts are theirs.
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/session", map[string]any{"email": "owner@b.example", "password": goodPassword}); r.Status != 200 {
			t.Fatalf("login with the old password: %d", r.Status)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me/accounts", nil, bearer(b.admin)...); len(r.JSON["items"].([]any)) != 2 {
			t.Fatalf("accounts: %s", r.Raw)
		}
		// Joined, they are shown under their own names.
		if r := call(t, env.Client(), "GET", a.url("/members/"+user), nil, bearer(a.admin)...); r.JSON["last_name"] != "Lovelace" {
			t.Fatalf("after joining: %s", r.Raw)
		}
		// Adding them again answers 409 with where they are.
		if r := addMember(t, a, a.admin, newMemberBody("owner@b.example")); r.Status != 409 || r.code() != "member.exists" ||
			!strings.HasSuffix(r.Header.Get("Location"), "/members/"+user) {
			t.Fatalf("add again: %d %v %s", r.Status, r.Header.Get("Location"), r.Raw)
		}
	})
}

func TestTeam_ReinviteRevokeAndThrottle(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := addMember(t, a, a.admin, newMemberBody("late@b.example", "send_invitation", false))
		if r.Status != 201 || r.JSON["status"] != "created" || r.JSON["invitations_sent"] != float64(0) {
			t.Fatalf("add without invitation: %d %s", r.Status, r.Raw)
		}
		user := r.JSON["user_id"].(string)
		invite := func() response {
			return call(t, env.Client(), "POST", a.url("/members/"+user+"/invitation"), nil, bearer(a.admin)...)
		}
		if r := invite(); r.Status != 200 || r.JSON["status"] != "invited" || r.JSON["invitations_sent"] != float64(1) {
			t.Fatalf("invite later: %d %s", r.Status, r.Raw)
		}
		first := apptest.Secret(apptest.Link(t, env.Mail(t, "late@b.example", "invitation"), "/invitations/"))
		if r := invite(); r.Status != 200 || r.JSON["invitations_sent"] != float64(2) || r.JSON["last_invited_at"] == nil {
			t.Fatalf("re-invite: %d %s", r.Status, r.Raw)
		}
		second := apptest.Secret(apptest.Link(t, env.Mail(t, "late@b.example", "reinvitation"), "/invitations/"))
		accept := func(secret string) response {
			return call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
				map[string]any{"password": "a reminder did the trick", "accept_privacy_policy": true})
		}
		if r := accept(first); r.Status != 404 || r.code() != "link.used" {
			t.Fatalf("superseded link: %d %s", r.Status, r.Raw)
		}
		// The third in the hour passes; the fourth is throttled, saying so.
		if r := invite(); r.Status != 200 {
			t.Fatalf("third: %d %s", r.Status, r.Raw)
		}
		if r := invite(); r.Status != 429 || r.code() != "invite.throttled" || r.Header.Get("Retry-After") == "" ||
			r.JSON["detail"] != "Too many invitations sent for now. Try again in 60 min." {
			t.Fatalf("fourth: %d %s", r.Status, r.Raw)
		}
		// The member's actions say so beforehand, with when it is possible
		// again: an hour after the first invitation.
		sent := time.Now()
		r = call(t, env.Client(), "GET", a.url("/members/"+user), nil, bearer(a.admin)...)
		act, _ := r.JSON["actions"].(map[string]any)["invite"].(map[string]any)
		at, err := time.Parse(time.RFC3339, fmt.Sprint(act["available_at"]))
		if act["allowed"] != false || act["code"] != "invite.throttled" || err != nil || at.Before(sent.Add(50*time.Minute)) ||
			at.After(sent.Add(time.Hour)) {
			t.Fatalf("actions of a throttled member: %s", r.Raw)
		}
		if _, ok := r.JSON["actions"].(map[string]any)["edit"].(map[string]any)["available_at"]; ok {
			t.Fatalf("available_at on an action no throttle refuses: %s", r.Raw)
		}
		// Suspended and reactivated while a link is outstanding: invited.
		if r := call(t, env.Client(), "POST", a.url("/members/"+user+"/suspend"), nil, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("suspend an invited member: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/members/"+user+"/reactivate"), nil, bearer(a.admin)...); r.Status != 200 || r.JSON["status"] != "invited" {
			t.Fatalf("reactivate an invited member: %d %s", r.Status, r.Raw)
		}
		// Revoked, no link works.
		if r := call(t, env.Client(), "DELETE", a.url("/members/"+user+"/invitation"), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Raw)
		}
		third := apptest.Secret(apptest.Link(t, env.Mail(t, "late@b.example", "reinvitation"), "/invitations/"))
		for _, s := range []string{second, third} {
			if r := accept(s); r.Status != 404 || r.code() != "link.used" {
				t.Fatalf("revoked link: %d %s", r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "GET", a.url("/members/"+user), nil, bearer(a.admin)...); r.JSON["status"] != "created" {
			t.Fatalf("after revoking: %s", r.Raw)
		}
		if r := call(t, env.Client(), "DELETE", a.url("/members/"+user+"/invitation"), nil, bearer(a.admin)...); r.Status != 409 {
			t.Fatalf("revoke nothing: %d %s", r.Status, r.Raw)
		}
		// Suspended and reactivated, they are back where they were: no
		// link works, so not "invited".
		if r := call(t, env.Client(), "POST", a.url("/members/"+user+"/suspend"), nil, bearer(a.admin)...); r.Status != 200 || r.JSON["status"] != "suspended" {
			t.Fatalf("suspend: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/members/"+user+"/reactivate"), nil, bearer(a.admin)...); r.Status != 200 || r.JSON["status"] != "created" {
			t.Fatalf("reactivate after a revocation: %d %s", r.Status, r.Raw)
		}
	})
}

// TestTeam_AddingCountsAgainstTheInvitationLimits: the emails sent on adding
// a member are invitations like any other, so removing and adding again
// does not get round the limit of three an hour per member.
func TestTeam_AddingCountsAgainstTheInvitationLimits(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		add := func(extra ...any) response {
			return addMember(t, a, a.admin, newMemberBody("pestered@b.example", append([]any{"send_invitation", true}, extra...)...))
		}
		for i := range 3 {
			r := add()
			if r.Status != 201 {
				t.Fatalf("add %d: %d %s", i+1, r.Status, r.Raw)
			}
			if r := call(t, env.Client(), "DELETE", a.url("/members/"+r.JSON["user_id"].(string)), nil, bearer(a.admin)...); r.Status != 204 {
				t.Fatalf("remove %d: %d %s", i+1, r.Status, r.Raw)
			}
		}
		env.Delivered(t)
		before := storetest_dump(t, env)
		for _, extra := range [][]any{nil, {"send_invitation", false, "send_welcome", true}} {
			if r := add(extra...); r.Status != 429 || r.code() != "invite.throttled" {
				t.Fatalf("fourth add in the hour %v: %d %s", extra, r.Status, r.Raw)
			}
		}
		if stripVolatile(before) != stripVolatile(storetest_dump(t, env)) {
			t.Fatal("a throttled add changed data")
		}
		// Adding without an email is not an invitation.
		if r := add("send_invitation", false); r.Status != 201 {
			t.Fatalf("add without email: %d %s", r.Status, r.Raw)
		}
		if n := env.Mails("pestered@b.example", "invitation"); n != 3 {
			t.Fatalf("%d invitations sent, want 3", n)
		}
	})
}

func TestTeam_ActivationAdminResetWelcomeAndNotificationEmail(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example") // account in English (sign-up locale)
		if r := call(t, env.Client(), "PATCH", a.url(""), map[string]any{"requires_activation": true, "locale": "fr"}, bearer(a.admin)...); r.Status != 200 ||
			r.JSON["requires_activation"] != true {
			t.Fatalf("settings: %d %s", r.Status, r.Raw)
		}
		// Created inactive; Activate sends the activation email in the account's language.
		r := addMember(t, a, a.admin, newMemberBody("sec@b.example", "send_invitation", false, "send_welcome", true,
			"notification_email", "assistant@b.example"))
		user := r.JSON["user_id"].(string)
		if r.Status != 201 || r.JSON["status"] != "created" {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		welcome := env.Mail(t, "assistant@b.example", "welcome")
		if len(welcome.Links) > 0 && strings.Contains(strings.Join(welcome.Links, " "), "/invitations/") {
			t.Fatal("the welcome email to the notification address carries a security link")
		}
		// Before activation, an administrator's reset sends the activation instead.
		r = call(t, env.Client(), "POST", a.url("/members/"+user+"/password-reset"), nil, bearer(a.admin)...)
		if r.Status != 202 || r.JSON["sent"] != "invitation" {
			t.Fatalf("reset before activation: %d %s", r.Status, r.Raw)
		}
		act := env.Mail(t, "sec@b.example", "activation")
		if act.To[0] != "sec@b.example" || !strings.Contains(act.Text, "activ") {
			t.Fatalf("activation: %v %q", act.To, act.Subject)
		}
		secret := apptest.Secret(apptest.Link(t, act, "/invitations/"))
		if info := call(t, env.Client(), "GET", env.URL+"/api/v1/invitations/"+secret, nil); info.JSON["activation"] != true {
			t.Fatalf("info: %s", info.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
			map[string]any{"password": "secretary of state", "accept_privacy_policy": true}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Raw)
		}
		// Active now: the reset link goes to the login email, never to the notification one.
		r = call(t, env.Client(), "POST", a.url("/members/"+user+"/password-reset"), nil, bearer(a.admin)...)
		if r.Status != 202 || r.JSON["sent"] != "password_reset" {
			t.Fatalf("reset: %d %s", r.Status, r.Raw)
		}
		reset := env.Mail(t, "sec@b.example", "admin_reset")
		if !strings.Contains(reset.Text, "Analytical Engines") {
			t.Fatalf("reset email: %s", reset.Text)
		}
		if env.Mails("assistant@b.example", "admin_reset") != 0 {
			t.Fatal("a reset link went to the notification email")
		}
		for range 2 {
			call(t, env.Client(), "POST", a.url("/members/"+user+"/password-reset"), nil, bearer(a.admin)...)
		}
		if r := call(t, env.Client(), "POST", a.url("/members/"+user+"/password-reset"), nil, bearer(a.admin)...); r.Status != 429 || r.code() != "reset.throttled" {
			t.Fatalf("reset throttle: %d %s", r.Status, r.Raw)
		}
	})
}

func TestTeam_SuspendRemoveAndTheRules(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		mgr := env.AddMember(t, a.account, "mgr@a.example", "manager", equipe.MemberActive)
		col := env.AddMember(t, a.account, "col@a.example", "collaborator", equipe.MemberActive)
		key := a.key(t, "admin")
		q := map[string]any{"user_id": col.User.ID.String(), "account_id": a.account.String(), "permission": "records.view"}
		// A manager may not make an administrator, nor touch one.
		if r := addMember(t, a, mgr.Token, newMemberBody("boss@b.example", "role", "admin")); r.Status != 403 || r.code() != "role.admin_only" {
			t.Fatalf("manager adds an admin: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/members/"+a.adminID.String()+"/suspend"), nil, bearer(mgr.Token)...); r.Status != 403 {
			t.Fatalf("manager suspends the admin: %d %s", r.Status, r.Raw)
		}
		// The last administrator stays.
		for _, p := range []string{"/suspend", ""} {
			method := "POST"
			if p == "" {
				method = "DELETE"
			}
			if r := call(t, env.Client(), method, a.url("/members/"+a.adminID.String()+p), nil, bearer(a.admin)...); r.Status != 409 || r.code() != "member.last_admin" {
				t.Fatalf("%s the last admin: %d %s", method, r.Status, r.Raw)
			}
		}
		// Suspension takes effect on the very next check and request.
		if r := call(t, env.Client(), "POST", a.url("/members/"+col.User.ID.String()+"/suspend"), nil, bearer(mgr.Token)...); r.Status != 200 || r.JSON["status"] != "suspended" {
			t.Fatalf("suspend: %d %s", r.Status, r.Raw)
		}
		if r := checkAs(t, env, key, q); r.JSON["reason"] != "denied_member_suspended" {
			t.Fatalf("check after suspension: %s", r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/roles"), nil, bearer(col.Token)...); r.Status != 404 {
			t.Fatalf("suspended member reads the account: %d", r.Status)
		}
		if r := call(t, env.Client(), "POST", a.url("/members/"+col.User.ID.String()+"/reactivate"), nil, bearer(mgr.Token)...); r.Status != 200 || r.JSON["status"] != "active" {
			t.Fatalf("reactivate: %d %s", r.Status, r.Raw)
		}
		// Removal keeps the identity.
		if r := call(t, env.Client(), "DELETE", a.url("/members/"+col.User.ID.String()), nil, bearer(mgr.Token)...); r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		if r := checkAs(t, env, key, q); r.JSON["reason"] != "denied_not_member" {
			t.Fatalf("check after removal: %s", r.Raw)
		}
		if r := call(t, env.Client(), "GET", env.URL+"/api/v1/me", nil, bearer(col.Token)...); r.Status != 200 {
			t.Fatalf("the removed member's identity: %d", r.Status)
		}
	})
}

func TestTeam_BadInputsAreRefusedAndHostileNamesStayInert(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for name, body := range map[string]map[string]any{
			"look-alike domain": newMemberBody("grace@exаmple.com"),
			"dotless i":         newMemberBody("mıke@example.com"),
			"CR/LF":             newMemberBody("grace@example.com\r\nBcc: eve@evil.test"),
			"over-long":         newMemberBody(strings.Repeat("g", 70) + "@example.com"),
			"display name":      newMemberBody(`"Grace" <grace@example.com>`),
			"markup in a name":  newMemberBody("g1@example.com", "first_name", "<img src=x onerror=alert(1)>"),
			"unknown role":      newMemberBody("g2@example.com", "role", "emperor"),
			"bad notification":  newMemberBody("g3@example.com", "notification_email", "not-an-email"),
			"unknown resource":  newMemberBody("g4@example.com", "resources", []string{equipe.NewID().String()}),
		} {
			r := addMember(t, a, a.admin, body)
			if r.Status != 422 && r.Status != 404 {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "GET", a.url("/members"), nil, bearer(a.admin)...); len(r.JSON["items"].([]any)) != 1 {
			t.Fatalf("refused members were written: %s", r.Raw)
		}
		// Template syntax and format verbs are just characters.
		r := addMember(t, a, a.admin, newMemberBody("hostile@example.com", "first_name", "{{.Link}}", "last_name", "%s%n"))
		if r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		m := env.Mail(t, "hostile@example.com", "invitation")
		if !strings.Contains(m.Text, "{{.Link}} %s%n") || !strings.Contains(m.HTML, "{{.Link}} %s%n") {
			t.Fatalf("names not shown verbatim:\n%s", m.Text)
		}
	})
}

func TestTeam_ListSearchAndAudit(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for i, n := range []string{"Élodie Martin", "Emile Durand", "Zoé Martin"} {
			parts := strings.SplitN(n, " ", 2)
			if r := addMember(t, a, a.admin, newMemberBody(fmt.Sprintf("p%d@b.example", i), "first_name", parts[0], "last_name", parts[1],
				"send_invitation", i%2 == 0)); r.Status != 201 {
				t.Fatalf("add: %d %s", r.Status, r.Raw)
			}
		}
		get := func(q url.Values) []any {
			r := call(t, env.Client(), "GET", a.url("/members?"+q.Encode()), nil, bearer(a.admin)...)
			if r.Status != 200 {
				t.Fatalf("list %v: %d %s", q, r.Status, r.Raw)
			}
			return r.JSON["items"].([]any)
		}
		if n := len(get(url.Values{"q": {"elo"}})); n != 1 {
			t.Errorf("q=elo: %d", n)
		}
		if n := len(get(url.Values{"q": {"MARTIN"}})); n != 2 {
			t.Errorf("q=MARTIN: %d", n)
		}
		if n := len(get(url.Values{"status": {"invited"}})); n != 2 {
			t.Errorf("invited: %d", n)
		}
		if n := len(get(url.Values{"role": {"admin"}})); n != 1 {
			t.Errorf("admins: %d", n)
		}
		page := call(t, env.Client(), "GET", a.url("/members?limit=2"), nil, bearer(a.admin)...)
		next := page.JSON["next_cursor"].(string)
		if n := len(get(url.Values{"limit": {"2"}, "cursor": {next}})); n != 2 {
			t.Errorf("second page: %d", n)
		}
		if r := call(t, env.Client(), "GET", a.url("/members?status=gone"), nil, bearer(a.admin)...); r.Status != 422 {
			t.Errorf("bad status: %d", r.Status)
		}
		// The audit log holds every action, newest first, filterable.
		audit := call(t, env.Client(), "GET", a.url("/audit?action=member.added"), nil, bearer(a.admin)...)
		if items := audit.JSON["items"].([]any); audit.Status != 200 || len(items) != 4 { // three added, and the owner at sign-up
			t.Fatalf("audit: %d %s", audit.Status, audit.Raw)
		}
		// Each is the event's public form, with the address the request came
		// from and the log's first names.
		newest := audit.JSON["items"].([]any)[0].(map[string]any)
		for _, f := range []string{"id", "type", "account_id", "actor", "subject", "before", "after", "at", "ip", "action",
			"actor_id", "target_type", "target_id"} {
			if _, ok := newest[f]; !ok {
				t.Errorf("audit event without %s: %v", f, newest)
			}
		}
		if newest["ip"] != "127.0.0.1" || newest["type"] != "member.added" || newest["action"] != "member.added" {
			t.Errorf("audit event: %v", newest)
		}
		all := call(t, env.Client(), "GET", a.url("/audit?limit=2"), nil, bearer(a.admin)...)
		if all.JSON["next_cursor"] == nil || len(all.JSON["items"].([]any)) != 2 {
			t.Fatalf("audit page: %s", all.Raw)
		}
		// A full page of the largest size still says whether more follow.
		if err := env.App.DB.Write(t.Context(), func(tx *store.Tx) error {
			for range equipe.MaxPage {
				if err := tx.RecordAudit(t.Context(), &equipe.AuditEvent{ID: equipe.NewID(), AccountID: &a.account,
					Action: "contact.created", TargetType: "contact", TargetID: equipe.NewID().String(), At: time.Now()}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		big := call(t, env.Client(), "GET", a.url("/audit?limit="+fmtAny(equipe.MaxPage)), nil, bearer(a.admin)...)
		if big.JSON["next_cursor"] == nil || len(big.JSON["items"].([]any)) != equipe.MaxPage {
			t.Fatalf("a page of %d: %d items, next %v", equipe.MaxPage, len(big.JSON["items"].([]any)), big.JSON["next_cursor"])
		}
		if r := call(t, env.Client(), "GET", a.url("/audit?limit=201"), nil, bearer(a.admin)...); r.Status != 400 ||
			!strings.Contains(string(r.Raw), "1 to 200") && !strings.Contains(string(r.Raw), "1 à 200") {
			t.Fatalf("limit 201: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members?limit=201"), nil, bearer(a.admin)...); r.Status != 400 ||
			!strings.Contains(string(r.Raw), "1 to 200") && !strings.Contains(string(r.Raw), "1 à 200") {
			t.Fatalf("members limit 201: %d %s", r.Status, r.Raw)
		}
		col := env.AddMember(t, a.account, "col@a.example", "collaborator", equipe.MemberActive)
		if r := call(t, env.Client(), "GET", a.url("/audit"), nil, bearer(col.Token)...); r.Status != 403 {
			t.Fatalf("a collaborator reads the audit: %d", r.Status)
		}
	})
}

// TestTeam_RemovalKillsTheLinkAndManagersCannotResetAdministrators: the
// invitation link of a removed member no longer lets anyone in, and a
// manager cannot send a reset to an administrator (someone who holds more).
func TestTeam_RemovalKillsTheLinkAndManagersCannotResetAdministrators(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		r := addMember(t, a, a.admin, newMemberBody("gone@b.example"))
		if r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		user := r.JSON["user_id"].(string)
		secret := apptest.Secret(apptest.Link(t, env.Mail(t, "gone@b.example", "invitation"), "/invitations/"))
		if r := call(t, env.Client(), "DELETE", a.url("/members/"+user), nil, bearer(a.admin)...); r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", env.URL+"/api/v1/invitations/"+secret+"/accept",
			map[string]any{"password": "let me in all the same", "accept_privacy_policy": true}); r.Status != 404 {
			t.Fatalf("the link of a removed member: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "GET", a.url("/members/"+user), nil, bearer(a.admin)...); r.Status != 404 {
			t.Fatalf("the removed member after the link: %d %s", r.Status, r.Raw)
		}

		mgr := env.AddMember(t, a.account, "mgr@a.example", "manager", equipe.MemberActive)
		env.Delivered(t)
		before := storetest_dump(t, env)
		if r := call(t, env.Client(), "POST", a.url("/members/"+a.adminID.String()+"/password-reset"), nil, bearer(mgr.Token)...); r.Status != 403 {
			t.Fatalf("a manager resets the administrator: %d %s", r.Status, r.Raw)
		}
		if stripVolatile(before) != stripVolatile(storetest_dump(t, env)) {
			t.Fatal("a refused reset changed data")
		}
		if n := env.Mails("owner@a.example", "admin_reset"); n != 0 {
			t.Fatalf("%d reset emails to the administrator", n)
		}
	})
}

// TestTeam_AccountWideLimits: past 200 invitations an hour in an account
// (counted across its members, and including a firm's new clients' owners),
// 50 administrator resets an hour, or 20 accounts created for others a day
// by one person, the next is refused with 429 and sends nothing. The
// counters are set near their limits in the database rather than driven
// there one request at a time.
func TestTeam_AccountWideLimits(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		raw := storetest.Raw(t, env.DB)
		near := func(key string, count int) {
			t.Helper()
			res, err := raw.Exec(`UPDATE throttles SET count = $1 WHERE key = $2`, count, key)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("no throttle %s", key)
			}
		}
		r := addMember(t, a, a.admin, newMemberBody("first@b.example"))
		if r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		near("invite:account:"+a.account.String(), 200)
		if r := addMember(t, a, a.admin, newMemberBody("second@b.example")); r.Status != 429 || r.code() != "invite.throttled" {
			t.Fatalf("the 201st invitation: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "POST", a.url("/clients"), map[string]any{"name": "Client", "locale": "fr",
			"owner": map[string]any{"email": "boss@client.example", "first_name": "B", "last_name": "C"}}, bearer(a.admin)...); r.Status != 429 || r.code() != "invite.throttled" {
			t.Fatalf("a client's owner past the firm's limit: %d %s", r.Status, r.Raw)
		}
		if n := env.Mails("second@b.example", "invitation") + env.Mails("boss@client.example", "account_created_for_you"); n != 0 {
			t.Fatalf("%d emails past the limit", n)
		}
		// Client accounts without an owner send nothing, and still count.
		client := func(name string) response {
			return call(t, env.Client(), "POST", a.url("/clients"), map[string]any{"name": name, "locale": "fr"}, bearer(a.admin)...)
		}
		if r := client("First client"); r.Status != 201 {
			t.Fatalf("a client without an owner: %d %s", r.Status, r.Raw)
		}
		near("clients:account:"+a.account.String(), 100)
		if r := client("One client too many"); r.Status != 429 || r.code() != "client.throttled" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("the 101st client of the hour: %d %s", r.Status, r.Raw)
		}
		var clients int
		if err := raw.QueryRow(`SELECT count(*) FROM accounts WHERE parent_id = $1`, a.account).Scan(&clients); err != nil || clients != 1 {
			t.Fatalf("%d client accounts after the refusal (%v), want 1", clients, err)
		}

		m := env.AddMember(t, a.account, "active@a.example", "collaborator", equipe.MemberActive)
		reset := func() response {
			return call(t, env.Client(), "POST", a.url("/members/"+m.User.ID.String()+"/password-reset"), nil, bearer(a.admin)...)
		}
		if r := reset(); r.Status != 202 {
			t.Fatalf("reset: %d %s", r.Status, r.Raw)
		}
		near("reset:account:"+a.account.String(), 50)
		if r := reset(); r.Status != 429 || r.code() != "reset.throttled" {
			t.Fatalf("the 51st reset: %d %s", r.Status, r.Raw)
		}

		if r := createAccountFor(t, env, a.admin, "owner1@shop.example"); r.Status != 201 {
			t.Fatalf("account for a business: %d %s", r.Status, r.Raw)
		}
		near("accounts:user:"+a.adminID.String(), 20)
		if r := createAccountFor(t, env, a.admin, "owner2@shop.example"); r.Status != 429 {
			t.Fatalf("the 21st account of the day: %d %s", r.Status, r.Raw)
		}
	})
}

// TestTeam_UndeliveredInvitationIsShown: when the mail server refuses an
// invitation for good, the team list says so for that member until an email
// to the address is delivered (here, the invitation sent again).
func TestTeam_UndeliveredInvitationIsShown(t *testing.T) {
	srv := mailtest.StartSMTP(t)
	eachWith(t, func() apptest.Options {
		return apptest.Options{Configure: func(c *app.Config) {
			sc, err := mail.ParseSMTPURL(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			c.SMTP = &sc
		}}
	}, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		env.Delivered(t) // the owner's verification email is out of the way
		before := len(srv.Messages())
		srv.FailNext(1, 550)
		r := addMember(t, a, a.admin, newMemberBody("nobody@b.example"))
		if r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		user := r.JSON["user_id"].(string)
		addMember(t, a, a.admin, newMemberBody("fine@b.example"))
		srv.WaitFor(t, before+1, 10*time.Second)
		env.Delivered(t)
		undelivered := func() map[string]any {
			t.Helper()
			list := call(t, env.Client(), "GET", a.url("/members"), nil, bearer(a.admin)...)
			out := map[string]any{}
			for _, it := range list.JSON["items"].([]any) {
				m := it.(map[string]any)
				out[m["email"].(string)] = m["invitation_undelivered"]
			}
			return out
		}
		if got := undelivered(); got["nobody@b.example"] != true || got["fine@b.example"] != false || got["owner@a.example"] != false {
			t.Fatalf("after a refused invitation: %v", got)
		}
		if r := call(t, env.Client(), "POST", a.url("/members/"+user+"/invitation"), nil, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("invite again: %d %s", r.Status, r.Raw)
		}
		srv.WaitFor(t, before+2, 10*time.Second)
		env.Delivered(t)
		if got := undelivered(); got["nobody@b.example"] != false {
			t.Fatalf("after the invitation went out: %v", got)
		}
	})
}

// TestTeam_ActivatingSomeoneWithAPasswordAsksThemToLogIn: the activation
// email asks a new person to choose a password, and someone who already has
// one to log in with it.
func TestTeam_ActivatingSomeoneWithAPasswordAsksThemToLogIn(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		newTenant(t, env, "known@b.example") // has a password; English
		if r := call(t, env.Client(), "PATCH", a.url(""), map[string]any{"requires_activation": true}, bearer(a.admin)...); r.Status != 200 {
			t.Fatalf("settings: %d %s", r.Status, r.Raw)
		}
		for _, email := range []string{"known@b.example", "new@b.example"} {
			r := addMember(t, a, a.admin, newMemberBody(email, "send_invitation", false, "locale", "en"))
			if r.Status != 201 {
				t.Fatalf("add: %d %s", r.Status, r.Raw)
			}
			if r := call(t, env.Client(), "POST", a.url("/members/"+r.JSON["user_id"].(string)+"/invitation"), nil, bearer(a.admin)...); r.Status != 200 {
				t.Fatalf("activate: %d %s", r.Status, r.Raw)
			}
		}
		known, fresh := env.Mail(t, "known@b.example", "activation"), env.Mail(t, "new@b.example", "activation")
		if !strings.Contains(known.Text, "log in with your usual email address and password") || strings.Contains(known.Text, "set your password") ||
			!strings.Contains(known.HTML, "Join the account") {
			t.Errorf("activation of someone with a password:\n%s", known.Text)
		}
		if !strings.Contains(fresh.Text, "set your password") || !strings.Contains(fresh.HTML, "Set my password") {
			t.Errorf("activation of someone new:\n%s", fresh.Text)
		}
	})
}

// TestAccount_NotifyAdderIsASettingAndTheAdderIsToldOnCreation: the account's
// notify_adder setting is read and changed through PATCH, and by default the
// administrator who adds a colleague gets a confirmation that the access was
// created.
func TestAccount_NotifyAdderIsASettingAndTheAdderIsToldOnCreation(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		if r := call(t, env.Client(), "GET", a.url(""), nil, bearer(a.admin)...); r.Status != 200 || r.JSON["notify_adder"] != "both" {
			t.Fatalf("account: %d %s", r.Status, r.Raw)
		}
		if r := addMember(t, a, a.admin, newMemberBody("grace@b.example")); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		if m := env.Mail(t, "owner@a.example", "adder_confirmation"); !strings.Contains(m.Text, "Grace Hopper") {
			t.Fatalf("the adder's confirmation: %s", m.Text)
		}
		if r := call(t, env.Client(), "PATCH", a.url(""), map[string]any{"notify_adder": "sometimes"}, bearer(a.admin)...); r.Status != 422 ||
			r.fieldCodes()["notify_adder"] != "account.notify_adder_invalid" {
			t.Fatalf("bad setting: %d %s", r.Status, r.Raw)
		}
		if r := call(t, env.Client(), "PATCH", a.url(""), map[string]any{"notify_adder": "never"}, bearer(a.admin)...); r.Status != 200 ||
			r.JSON["notify_adder"] != "never" {
			t.Fatalf("setting: %d %s", r.Status, r.Raw)
		}
		if r := addMember(t, a, a.admin, newMemberBody("alan@b.example")); r.Status != 201 {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		if got := env.Outbox(t, "adder_confirmation"); len(got) != 1 {
			t.Fatalf("confirmations queued: %v, want the first only", got)
		}
	})
}

// fieldCode returns the code of the problem's error about field.
func fieldCode(r response, field string) string {
	errs, _ := r.JSON["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			s, _ := m["code"].(string)
			return s
		}
	}
	return ""
}

func TestTeam_ListSortsEachWayAndRefusesAnUnknownSort(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		for i, n := range []string{"Élodie Martin", "Emile Durand", "Zoé Bernard", "Ana Zola"} {
			parts := strings.SplitN(n, " ", 2)
			if r := addMember(t, a, a.admin, newMemberBody(fmt.Sprintf("p%d@cabinet-expert.example", i), "first_name", parts[0],
				"last_name", parts[1], "send_invitation", i%2 == 0)); r.Status != 201 {
				t.Fatalf("add: %d %s", r.Status, r.Raw)
			}
		}
		list := func(q url.Values) []map[string]any {
			t.Helper()
			var out []map[string]any
			for {
				r := call(t, env.Client(), "GET", a.url("/members?"+q.Encode()), nil, bearer(a.admin)...)
				if r.Status != 200 {
					t.Fatalf("list %v: %d %s", q, r.Status, r.Raw)
				}
				for _, it := range r.JSON["items"].([]any) {
					out = append(out, it.(map[string]any))
				}
				next, _ := r.JSON["next_cursor"].(string)
				if next == "" {
					return out
				}
				q.Set("cursor", next)
			}
		}
		names := func(rows []map[string]any) []string {
			var out []string
			for _, r := range rows {
				out = append(out, fmtAny(r["last_name"]))
			}
			return out
		}
		byName := names(list(url.Values{"sort": {"name"}, "limit": {"2"}}))
		if len(byName) != 5 || !slices.IsSorted(byName[1:]) {
			t.Fatalf("by name: %v", byName)
		}
		desc := names(list(url.Values{"sort": {"-name"}, "limit": {"2"}}))
		slices.Reverse(desc)
		if !slices.Equal(desc, byName) {
			t.Errorf("-name is not name reversed: %v, %v", desc, byName)
		}
		var statuses []string
		for _, r := range list(url.Values{"sort": {"status"}, "limit": {"2"}}) {
			statuses = append(statuses, fmtAny(r["status"]))
		}
		if !slices.IsSorted(statuses) || statuses[0] != "active" {
			t.Errorf("by status: %v", statuses)
		}
		// The owner has logged in to the account; nobody added has.
		byLogin := list(url.Values{"sort": {"-last_login"}})
		if byLogin[0]["never_logged_in"] != false || byLogin[1]["never_logged_in"] != true {
			t.Errorf("by last login, most recent first: %v", byLogin)
		}
		// A search of part of a domain, accents and case ignored.
		if n := len(list(url.Values{"q": {"@CABINET-expert"}})); n != 4 {
			t.Errorf("q=@CABINET-expert: %d", n)
		}
		if n := len(list(url.Values{"q": {"lodi"}})); n != 1 {
			t.Errorf("q=lodi: %d", n)
		}
		for _, bad := range []string{"email", "-", "name,role", "--name"} {
			r := call(t, env.Client(), "GET", a.url("/members?sort="+url.QueryEscape(bad)), nil, bearer(a.admin)...)
			if r.Status != 422 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") ||
				fieldCode(r, "sort") != "request.sort_invalid" {
				t.Errorf("sort=%s: %d %s", bad, r.Status, r.Raw)
			}
		}
	})
}

func TestAccount_TimeZoneIsSetAndABadOneRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		a := newTenant(t, env, "owner@a.example")
		acct := env.URL + "/api/v1/accounts/" + a.account.String()
		if r := call(t, env.Client(), "GET", acct, nil, bearer(a.admin)...); r.Status != 200 || r.JSON["time_zone"] != "" {
			t.Fatalf("a new account follows the instance's zone: %d %s", r.Status, r.Raw)
		}
		r := call(t, env.Client(), "PATCH", acct, map[string]any{"time_zone": "Europe/Paris"}, bearer(a.admin)...)
		if r.Status != 200 || r.JSON["time_zone"] != "Europe/Paris" {
			t.Fatalf("set Europe/Paris: %d %s", r.Status, r.Raw)
		}
		for _, bad := range []string{"Europe/Lutece", "Local", "europe/paris", "../../etc/passwd", "+01:00"} {
			r := call(t, env.Client(), "PATCH", acct, map[string]any{"time_zone": bad, "name": "Changed"}, bearer(a.admin)...)
			if r.Status != 422 || fieldCode(r, "time_zone") != "account.time_zone_invalid" {
				t.Errorf("time_zone %q: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := call(t, env.Client(), "GET", acct, nil, bearer(a.admin)...); r.JSON["time_zone"] != "Europe/Paris" || r.JSON["name"] == "Changed" {
			t.Errorf("a refused change changed something: %s", r.Raw)
		}
		audit := call(t, env.Client(), "GET", a.url("/audit?action=account.changed"), nil, bearer(a.admin)...)
		items, _ := audit.JSON["items"].([]any)
		if len(items) != 1 || !strings.Contains(string(audit.Raw), `"time_zone":"Europe/Paris"`) {
			t.Errorf("the change's event: %s", audit.Raw)
		}
		if r := call(t, env.Client(), "PATCH", acct, map[string]any{"time_zone": ""}, bearer(a.admin)...); r.Status != 200 || r.JSON["time_zone"] != "" {
			t.Errorf("back to the instance's zone: %d %s", r.Status, r.Raw)
		}
	})
}
