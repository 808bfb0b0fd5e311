package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/problem"
	"github.com/equipe-dev/equipe/team"
)

//go:embed templates
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Web serves the pages.
type Web struct {
	Identity  *identity.Service
	Team      *team.Service
	Catalogue *access.Catalogue
	Cookies   httpauth.Cookies
	I18n      *i18n.Catalog
	Log       *slog.Logger
	// DevMailbox is true when the development mailbox is on (links to it are shown).
	DevMailbox bool
	// Rand is the source of suggested passwords (default crypto/rand).
	Rand io.Reader
	// APIDocument is the OpenAPI document the API serves, which the API
	// reference page renders.
	APIDocument []byte
	// APIDocumentOf, when set, gives the OpenAPI document of a brand: the
	// reference page then renders the one of the brand in force.
	APIDocumentOf func(brand.Brand) []byte
	// Brand holds the vendor's look of every page, the brand in force
	// when the page is made (the default one when nil).
	Brand *brand.Live
	// SignIn is the OpenID Connect provider whose requests /login/oidc
	// logs people in for (nil: none).
	SignIn *openid.Provider

	// pages holds each page's templates, made on its first use: a set
	// per page and language, each a copy of the shared templates, takes
	// about 0.25 MB, and a process serves few of the pages in both.
	pages map[string]*pageSet
	base  *template.Template // the shared templates, never executed
	// brandRef is the API reference of the brand in force, read when the
	// page is first shown, and again only when the brand's name or key
	// prefix changes (with APIDocumentOf).
	brandRef atomic.Pointer[brandedRef]
}

// audience says who may see a page.
type audience int

const (
	public    audience = iota // anyone
	anonymous                 // only someone not logged in (logged-in people go home)
	loggedIn                  // a session, before or after consent
	member                    // a session whose user accepted the current privacy policy
)

type route struct {
	pattern string
	access  audience
	handle  func(w *Web, rw http.ResponseWriter, r *http.Request) error
}

// importUpload is the route that takes a members file, larger than any
// other form.
const importUpload = "POST /accounts/{account}/members/import"

// routes lists every page and page action.
var routes = []route{
	{"GET /{$}", member, (*Web).home},
	{"POST /session/account", member, (*Web).switchAccount},
	{"GET /accounts/new", member, (*Web).newAccountForm},
	{"POST /accounts/new", member, (*Web).createAccountFor},
	{"GET /signup", anonymous, (*Web).signupForm},
	{"POST /signup", anonymous, (*Web).signup},
	{"GET /signup/confirm/{token}", public, (*Web).confirmSignUpForm},
	{"POST /signup/confirm/{token}", public, (*Web).confirmSignUp},
	{"GET /login", public, (*Web).loginForm},
	{"GET /login/oidc", public, (*Web).oidcLogin},
	{"POST /login/oidc", public, (*Web).oidcDecide},
	{"POST /login", public, (*Web).logIn},
	{"GET /login/second-factor", public, (*Web).secondStepForm},
	{"POST /login/second-factor", public, (*Web).secondStep},
	{"POST /login/second-factor/passkey/options", public, (*Web).secondStepPasskeyOptions},
	{"POST /login/second-factor/passkey", public, (*Web).secondStepPasskey},
	{"POST /logout", loggedIn, (*Web).logOut},
	{"GET /logout/confirm", loggedIn, (*Web).oidcLogoutForm},
	{"GET /me/email", member, (*Web).emailForm},
	{"POST /me/email", member, (*Web).changeEmail},
	{"POST /me/email/resend", member, (*Web).resendEmailChange},
	{"POST /me/email/withdraw", member, (*Web).withdrawEmailChange},
	{"POST /me/email/passkey/options", member, (*Web).emailPasskeyOptions},
	{"GET /email-change/confirm/{token}", public, (*Web).emailConfirmForm},
	{"POST /email-change/confirm/{token}", public, (*Web).emailConfirm},
	{"GET /email-change/cancel/{token}", public, (*Web).emailCancelForm},
	{"POST /email-change/cancel/{token}", public, (*Web).emailCancel},
	{"POST /login/passkey/options", public, (*Web).passkeyLoginOptions},
	{"POST /login/passkey", public, (*Web).passkeyLogIn},
	{"GET /me/security", member, (*Web).security2FA},
	{"POST /me/security/totp", member, (*Web).startTOTP},
	{"POST /me/security/totp/confirm", member, (*Web).confirmTOTP},
	{"GET /me/security/totp/remove", member, (*Web).removeTOTPForm},
	{"POST /me/security/totp/remove", member, (*Web).disableTOTP},
	{"GET /me/security/recovery-codes", member, (*Web).regenerateForm},
	{"POST /me/security/recovery-codes", member, (*Web).regenerateRecoveryCodes},
	{"GET /me", member, (*Web).myProfile},
	{"POST /me", member, (*Web).saveProfile},
	{"POST /me/notification-email/resend", member, (*Web).resendNotificationEmail},
	{"POST /me/notification-email/cancel", member, (*Web).cancelNotificationEmail},
	{"GET /notification-email/{token}", public, (*Web).notificationEmailForm},
	{"POST /notification-email/{token}", public, (*Web).confirmNotificationEmail},
	{"GET /me/password", member, (*Web).passwordForm},
	{"POST /me/password", member, (*Web).changePassword},
	{"GET /me/passkeys", member, (*Web).passkeys},
	{"POST /me/passkeys", member, (*Web).addPasskeyWithoutScript},
	{"POST /me/passkeys/options", member, (*Web).passkeyOptions},
	{"POST /me/passkeys/register", member, (*Web).registerPasskey},
	{"GET /me/passkeys/{passkey}/rename", member, (*Web).renamePasskeyForm},
	{"POST /me/passkeys/{passkey}/rename", member, (*Web).renamePasskey},
	{"GET /me/passkeys/{passkey}/remove", member, (*Web).removePasskeyForm},
	{"POST /me/passkeys/{passkey}/remove", member, (*Web).removePasskey},
	{"GET /forgot-password", public, (*Web).forgotForm},
	{"POST /forgot-password", public, (*Web).forgot},
	{"GET /password-reset/{token}", public, (*Web).resetForm},
	{"POST /password-reset/{token}", public, (*Web).reset},
	{"GET /verify-email/{token}", public, (*Web).verifyForm},
	{"POST /verify-email/{token}", public, (*Web).verify},
	{"POST /verify-email", loggedIn, (*Web).resendVerification},
	{"GET /consent", loggedIn, (*Web).consentForm},
	{"POST /consent", loggedIn, (*Web).consent},
	{"GET /privacy", public, (*Web).privacy},
	{"GET /docs/api", public, (*Web).apiReferencePage},
	{"GET /invitations/{token}", public, (*Web).invitation},
	{"POST /invitations/{token}", public, (*Web).acceptInvitation},
	{"POST /accounts/{account}/join", member, (*Web).joinPending},
	{"GET /accounts/{account}/members", member, (*Web).team},
	{"GET /accounts/{account}/members/export.csv", member, (*Web).exportMembers},
	{"GET /accounts/{account}/members/import", member, (*Web).importForm},
	{importUpload, member, (*Web).importUpload},
	{"POST /accounts/{account}/imports/{import}/start", member, (*Web).importStart},
	{"GET /accounts/{account}/imports/{import}", member, (*Web).importProgress},
	{"GET /accounts/{account}/members/new", member, (*Web).newMemberForm},
	{"POST /accounts/{account}/members/new", member, (*Web).addMember},
	{"POST /accounts/{account}/members/bulk", member, (*Web).bulkConfirm},
	{"POST /accounts/{account}/members/bulk/apply", member, (*Web).bulkApply},
	{"GET /accounts/{account}/members/{user}/edit", member, (*Web).editMemberForm},
	{"POST /accounts/{account}/members/{user}/edit", member, (*Web).changeMember},
	{"GET /accounts/{account}/members/{user}/invite", member, confirm(actInvite)},
	{"POST /accounts/{account}/members/{user}/invite", member, perform(actInvite)},
	{"GET /accounts/{account}/members/{user}/revoke-invitation", member, confirm(actRevoke)},
	{"POST /accounts/{account}/members/{user}/revoke-invitation", member, perform(actRevoke)},
	{"GET /accounts/{account}/members/{user}/password-reset", member, confirm(actReset)},
	{"POST /accounts/{account}/members/{user}/password-reset", member, perform(actReset)},
	{"GET /accounts/{account}/members/{user}/suspend", member, confirm(actSuspend)},
	{"POST /accounts/{account}/members/{user}/suspend", member, perform(actSuspend)},
	{"GET /accounts/{account}/members/{user}/reactivate", member, confirm(actReactivate)},
	{"POST /accounts/{account}/members/{user}/reactivate", member, perform(actReactivate)},
	{"GET /accounts/{account}/members/{user}/remove", member, confirm(actRemove)},
	{"POST /accounts/{account}/members/{user}/remove", member, perform(actRemove)},
	{"GET /accounts/{account}/clients", member, (*Web).clients},
	{"GET /accounts/{account}/clients/new", member, (*Web).newClientForm},
	{"POST /accounts/{account}/clients/new", member, (*Web).createClient},
	{"POST /accounts/{account}/clients/{client}/staff", member, (*Web).assignStaff},
	{"GET /accounts/{account}/clients/{client}/staff/{user}/remove", member, (*Web).unassignStaffForm},
	{"POST /accounts/{account}/clients/{client}/staff/{user}/remove", member, (*Web).unassignStaff},
	{"GET /accounts/{account}/clients/{client}/detach", member, (*Web).detachClientForm},
	{"POST /accounts/{account}/clients/{client}/detach", member, (*Web).detachClient},
	{"GET /accounts/{account}/contacts", member, (*Web).contacts},
	{"GET /accounts/{account}/contacts/new", member, (*Web).newContactForm},
	{"POST /accounts/{account}/contacts/new", member, (*Web).createContact},
	{"GET /accounts/{account}/contacts/{contact}/edit", member, (*Web).editContactForm},
	{"POST /accounts/{account}/contacts/{contact}/edit", member, (*Web).updateContact},
	{"GET /accounts/{account}/contacts/{contact}/delete", member, (*Web).deleteContactForm},
	{"POST /accounts/{account}/contacts/{contact}/delete", member, (*Web).deleteContact},
	{"GET /accounts/{account}/resources", member, (*Web).resources},
	{"GET /accounts/{account}/resources/new", member, (*Web).newResourceForm},
	{"POST /accounts/{account}/resources/new", member, (*Web).createResource},
	{"GET /accounts/{account}/resources/{resource}/edit", member, (*Web).editResourceForm},
	{"POST /accounts/{account}/resources/{resource}/edit", member, (*Web).changeResource},
	{"GET /accounts/{account}/resources/{resource}/archive", member, (*Web).archiveResourceForm},
	{"POST /accounts/{account}/resources/{resource}/archive", member, (*Web).archiveResource},
	{"POST /accounts/{account}/resources/{resource}/restore", member, (*Web).restoreResource},
	{"GET /accounts/{account}/audit", member, (*Web).audit},
	{"GET /accounts/{account}/audit/export.csv", member, (*Web).exportAudit},
	{"GET /accounts/{account}/settings", member, (*Web).settingsForm},
	{"POST /accounts/{account}/settings", member, (*Web).saveSettings},
	{"GET /accounts/{account}/firm/end", member, (*Web).endFirmForm},
	{"POST /accounts/{account}/firm/end", member, (*Web).endFirm},
	{"GET /accounts/{account}/delete", member, (*Web).deleteAccountForm},
	{"POST /accounts/{account}/delete", member, (*Web).deleteAccount},
	{"GET /accounts/{account}/roles", member, (*Web).roles},
	{"GET /accounts/{account}/roles/new", member, (*Web).newRoleForm},
	{"POST /accounts/{account}/roles/new", member, (*Web).createRole},
	{"GET /accounts/{account}/roles/{role}/edit", member, (*Web).editRoleForm},
	{"POST /accounts/{account}/roles/{role}/edit", member, (*Web).updateRole},
	{"GET /accounts/{account}/roles/{role}/delete", member, (*Web).deleteRoleForm},
	{"POST /accounts/{account}/roles/{role}/delete", member, (*Web).deleteRole},
	{"GET /accounts/{account}/members/{user}/permissions", member, (*Web).memberPermissions},
	{"GET /accounts/{account}/api-keys", member, (*Web).accountKeys},
	{"POST /accounts/{account}/api-keys", member, (*Web).createAccountKey},
	{"GET /accounts/{account}/api-keys/{key}/revoke", member, (*Web).revokeAccountKeyForm},
	{"POST /accounts/{account}/api-keys/{key}/revoke", member, (*Web).revokeAccountKey},
	{"GET /admin/api-keys", member, (*Web).instanceKeys},
	{"POST /admin/api-keys", member, (*Web).createInstanceKey},
	{"GET /admin/api-keys/{key}/revoke", member, (*Web).revokeInstanceKeyForm},
	{"POST /admin/api-keys/{key}/revoke", member, (*Web).revokeInstanceKey},
	{"GET /accounts/{account}/webhooks", member, (*Web).webhooks},
	{"POST /accounts/{account}/webhooks", member, (*Web).createWebhook},
	{"GET /accounts/{account}/webhooks/{webhook}", member, (*Web).webhook},
	{"POST /accounts/{account}/webhooks/{webhook}", member, (*Web).updateWebhook},
	{"POST /accounts/{account}/webhooks/{webhook}/test", member, (*Web).testWebhook},
	{"POST /accounts/{account}/webhooks/{webhook}/rotate", member, (*Web).rotateWebhook},
	{"GET /accounts/{account}/webhooks/{webhook}/delete", member, (*Web).deleteWebhookForm},
	{"POST /accounts/{account}/webhooks/{webhook}/delete", member, (*Web).deleteWebhook},
	{"GET /accounts/{account}/webhooks/{webhook}/deliveries/{delivery}", member, (*Web).webhookDelivery},
	{"POST /accounts/{account}/webhooks/{webhook}/deliveries/{delivery}/redeliver", member, (*Web).redeliverWebhook},
	{"GET /admin/webhooks", member, (*Web).webhooks},
	{"POST /admin/webhooks", member, (*Web).createWebhook},
	{"GET /admin/webhooks/{webhook}", member, (*Web).webhook},
	{"POST /admin/webhooks/{webhook}", member, (*Web).updateWebhook},
	{"POST /admin/webhooks/{webhook}/test", member, (*Web).testWebhook},
	{"POST /admin/webhooks/{webhook}/rotate", member, (*Web).rotateWebhook},
	{"GET /admin/webhooks/{webhook}/delete", member, (*Web).deleteWebhookForm},
	{"POST /admin/webhooks/{webhook}/delete", member, (*Web).deleteWebhook},
	{"GET /admin/webhooks/{webhook}/deliveries/{delivery}", member, (*Web).webhookDelivery},
	{"POST /admin/webhooks/{webhook}/deliveries/{delivery}/redeliver", member, (*Web).redeliverWebhook},
	{"GET /admin/security", member, (*Web).security},
	{"GET /admin/brand", member, (*Web).brandSettings},
	{brandSave, member, (*Web).saveBrand},
	{brandReset, member, (*Web).resetBrand},
	{"GET /admin/emails", member, (*Web).emailPreviews},
	{"GET /admin/emails/{name}/{locale}", member, (*Web).emailPreview},
	{"GET /admin/emails/{name}/{locale}/html", member, (*Web).emailPreviewHTML},
	{"POST /admin/emails/{name}/{locale}/send", member, (*Web).sendEmailPreview},
	{"GET /admin/oidc-clients", member, (*Web).oidcClients},
	{"POST /admin/oidc-clients", member, (*Web).createOIDCClient},
	{"GET /admin/oidc-clients/{client}/edit", member, (*Web).editOIDCClientForm},
	{"POST /admin/oidc-clients/{client}/edit", member, (*Web).editOIDCClient},
	{"GET /admin/oidc-clients/{client}/rotate", member, (*Web).rotateOIDCClientForm},
	{"POST /admin/oidc-clients/{client}/rotate", member, (*Web).rotateOIDCClient},
	{"GET /admin/oidc-clients/{client}/delete", member, (*Web).deleteOIDCClientForm},
	{"POST /admin/oidc-clients/{client}/delete", member, (*Web).deleteOIDCClient},
	{"GET /admin/privacy-policy", member, (*Web).policies},
	{"POST /admin/privacy-policy", member, (*Web).publishPolicy},
	{"POST /admin/privacy-policy/{version}/withdraw", member, (*Web).withdrawPolicy},
	{"GET /admin/privacy-policy/{version}/acceptances", member, (*Web).policyAcceptances},
	{"GET /me/data", loggedIn, (*Web).data},
	{"POST /me/data/export", loggedIn, (*Web).exportData},
	{"GET /me/data/delete", loggedIn, (*Web).deleteForm},
	{"POST /me/data/delete", loggedIn, (*Web).deleteIdentity},
	{"GET /admin/users/{user}/export", member, (*Web).data},
	{"POST /admin/users/{user}/export", member, (*Web).exportData},
	{"GET /admin/users/{user}/delete", member, (*Web).deleteForm},
	{"POST /admin/users/{user}/delete", member, (*Web).deleteIdentity},
	{"GET /me/sessions", member, (*Web).mySessions},
	{"POST /me/sessions/alerts", member, (*Web).setAlerts},
	{"GET /me/sessions/others/end", member, (*Web).endOtherSessionsForm},
	{"POST /me/sessions/others/end", member, (*Web).endOtherSessions},
	{"GET /me/sessions/{session}/end", member, (*Web).endSessionForm},
	{"POST /me/sessions/{session}/end", member, (*Web).endSession},
	{"POST /me/oidc-consents/{client}/withdraw", member, (*Web).withdrawConsent},
	{"GET /admin/users", member, (*Web).users},
	{"GET /admin/users/{user}", member, (*Web).adminUser},
	{"GET /admin/users/{user}/end-sessions", member, (*Web).endUserSessionsForm},
	{"POST /admin/users/{user}/end-sessions", member, (*Web).endUserSessions},
	{"GET /admin/users/{user}/second-factors", member, (*Web).removeFactorsForm},
	{"POST /admin/users/{user}/second-factors", member, (*Web).removeFactors},
	{"GET /admin/users/{user}/disable", member, setDisabledForm(true)},
	{"POST /admin/users/{user}/disable", member, setDisabled(true)},
	{"GET /admin/users/{user}/enable", member, setDisabledForm(false)},
	{"POST /admin/users/{user}/enable", member, setDisabled(false)},
}

// Handler returns the handler of every page, of /static/ and of the
// not-found page.
func (w *Web) Handler() (http.Handler, error) {
	if w.Brand == nil {
		w.Brand = brand.NewLive(brand.Default())
	}
	if err := w.parse(); err != nil {
		return nil, err
	}
	// The API reference is read the first time its page is asked for
	// (apiReference): few instances show it, and reading it costs a start
	// some 50 ms and a megabyte kept. The document is embedded in the
	// binary and TestAPIReference_ShowsEveryOperationFromTheServedDocument
	// reads it as the page does, so a document the page cannot show fails
	// that test rather than a start.
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle(rt.pattern, w.wrap(rt))
	}
	static, _ := fs.Sub(staticFiles, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(rw, r)
	})))
	// The brand's files are served from this origin, so that the pages'
	// Content-Security-Policy names no other. Their URLs carry a digest of
	// their content (?v=): a new brand is fetched at once. Each answer is
	// the brand in force's, which an administrator may change.
	mux.HandleFunc("GET /static/brand.css", func(rw http.ResponseWriter, r *http.Request) {
		css, version := w.Brand.CSS()
		serveBrandFile(rw, r, "text/css; charset=utf-8", version, css)
	})
	mux.HandleFunc("GET /static/brand/logo", func(rw http.ResponseWriter, r *http.Request) {
		logo := w.Brand.Load().Logo
		if logo == nil {
			w.fail(rw, r, equipe.Errorf(equipe.ENOTFOUND, "error.not_found"))
			return
		}
		serveBrandFile(rw, r, logo.Type, logo.Version(), logo.Data)
	})
	// Browsers ask for /favicon.ico of their own accord, whatever the
	// pages' <link rel="icon">: they get the same icon rather than a 404.
	serveIcon := func(rw http.ResponseWriter, r *http.Request) {
		icon := w.Brand.Load().Favicon
		if icon == nil {
			// Checked again each time: a brand's icon may replace it.
			rw.Header().Set("Content-Type", "image/svg+xml")
			rw.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(rw, r, static, "favicon.svg")
			return
		}
		serveBrandFile(rw, r, icon.Type, icon.Version(), icon.Data)
	}
	mux.HandleFunc("GET /static/brand/favicon", serveIcon)
	mux.HandleFunc("GET /favicon.ico", serveIcon)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		w.fail(rw, r, equipe.Errorf(equipe.ENOTFOUND, "error.not_found"))
	})
	return mux, nil
}

// serveBrandFile answers with one of the brand's files, version its
// digest. Asked for by that digest (?v=, as the pages and emails link it),
// it is kept a year: another brand has another URL. Asked for otherwise,
// without it (/favicon.ico) or by another digest (a page of a process that
// put a new brand in force a moment before this one did), it is checked
// again each time, by its ETag, so that no cache keeps what the brand was
// under a URL that names what it is. An SVG is sandboxed besides the
// site's policy: opened on its own, it runs nothing.
func serveBrandFile(rw http.ResponseWriter, r *http.Request, contentType, version string, data []byte) {
	rw.Header().Set("Content-Type", contentType)
	rw.Header().Set("ETag", `"`+version+`"`)
	if r.URL.Query().Get("v") == version {
		rw.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		rw.Header().Set("Cache-Control", "no-cache")
	}
	if contentType == "image/svg+xml" {
		rw.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(data))
}

func (w *Web) wrap(rt route) http.Handler {
	// Pages in an account are subject to its second-factor requirement,
	// except joining it (which starts the newcomer's grace).
	inAccount := strings.Contains(rt.pattern, " /accounts/{account}/") && rt.pattern != "POST /accounts/{account}/join"
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mm := &memo{}
		r = r.WithContext(context.WithValue(r.Context(), memoKey{}, mm))
		// Pages are personal or carry one-time links: no cache keeps them.
		rw.Header().Set("Cache-Control", "no-store")
		// A session that could not be checked (the database unreachable)
		// is answered as such, first: no way to the login page, and the
		// cookie stays.
		if err := httpauth.Unavailable(r); err != nil {
			w.fail(rw, r, err)
			return
		}
		if r.Method == http.MethodGet && r.URL.Query().Has("lang") {
			w.switchLanguage(rw, r)
			return
		}
		auth, authed := httpauth.Auth(r)
		switch rt.access {
		case anonymous:
			if authed {
				http.Redirect(rw, r, "/", http.StatusSeeOther)
				return
			}
		case loggedIn, member:
			if !authed {
				http.Redirect(rw, r, "/login?next="+url.QueryEscape(comeBackTo(r)), http.StatusSeeOther)
				return
			}
			if rt.access == member {
				_, needed, err := w.Identity.ConsentNeeded(r.Context(), auth.User.ID)
				if err != nil {
					w.fail(rw, r, err)
					return
				}
				if needed {
					http.Redirect(rw, r, "/consent?next="+url.QueryEscape(comeBackTo(r)), http.StatusSeeOther)
					return
				}
				if inAccount {
					enrolNow, err := w.secondFactorRule(r, mm, auth.User.ID)
					if err != nil {
						w.fail(rw, r, err)
						return
					}
					if enrolNow {
						http.Redirect(rw, r, enrolPath+"?next="+url.QueryEscape(comeBackTo(r)), http.StatusSeeOther)
						return
					}
				}
			}
		}
		if r.Method == http.MethodPost {
			limit := int64(64 << 10)
			switch rt.pattern {
			case importUpload:
				limit = maxUpload
			case brandSave, brandReset:
				limit = brandUpload
			}
			r.Body = http.MaxBytesReader(rw, r.Body, limit)
			if err := r.ParseForm(); err != nil {
				w.fail(rw, r, &equipe.Error{Code: equipe.EINVALID, Key: "request.malformed", Err: err})
				return
			}
		}
		if err := rt.handle(w, rw, r); err != nil {
			w.fail(rw, r, err)
		}
	})
}

// enrolPath is where a person enrols an authenticator app (passkeys are on
// /me/passkeys, which the page links to).
const enrolPath = "/me/security"

// secondFactorRule applies the account's second-factor requirement (the
// path's account) to the reader: true when their grace is over and they
// must enrol before anything else in the account; during the grace, the
// rule is kept in the request's memo for the banner.
func (w *Web) secondFactorRule(r *http.Request, mm *memo, user equipe.ID) (bool, error) {
	account, err := pathID(r, "account")
	if err != nil {
		return false, nil // names no account: the handler answers 404
	}
	rule, err := w.Team.SecondFactorRule(r.Context(), account, user)
	if err != nil || rule.Due {
		return rule.Due, err
	}
	if rule.Enrol {
		mm.enrol = &rule
	}
	return false, nil
}

// langCookie remembers a language chosen on this browser.
const langCookie = "equipe_lang"

// locale is the language of the page: one chosen on this browser, else the
// user's, else the browser's Accept-Language.
func (w *Web) locale(r *http.Request) string {
	if l := w.chosenLocale(r); l != "" {
		return l
	}
	if a, ok := httpauth.Auth(r); ok && equipe.ValidLocale(a.User.Locale) {
		return a.User.Locale
	}
	return i18n.Negotiate(r.Header.Get("Accept-Language"))
}

// chosenLocale is the language chosen on this browser (the pages' switch),
// or "".
func (w *Web) chosenLocale(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && equipe.ValidLocale(c.Value) {
		return c.Value
	}
	return ""
}

// switchLanguage remembers ?lang= for this browser and shows the page again
// without it. It changes nothing on the server.
func (w *Web) switchLanguage(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if l := q.Get("lang"); equipe.ValidLocale(l) {
		http.SetCookie(rw, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: w.Cookies.Secure, SameSite: http.SameSiteLaxMode})
	}
	q.Del("lang")
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	http.Redirect(rw, r, u.RequestURI(), http.StatusSeeOther)
}

// page is what every page's template gets.
type page struct {
	Locale string
	Title  string // message key
	// Heading, when set, titles the page instead of Title: the page's own
	// question or name, already in the reader's language.
	Heading    string
	User       *equipe.User
	Path       string // the current path and query, for the language links
	Notice     string // message key of a notice at the top
	NoticeArgs map[string]any
	DevMailbox bool
	// Switcher is the account switcher of the header, for a logged-in user.
	Switcher *switcher
	// Enrol is the banner of a member whose account requires a second
	// factor they have yet to set up: by when, and where.
	Enrol *enrolBanner
	Form  *form
	Data  any
	// Refresh, when set, reloads the page after that many seconds (a page
	// that follows work in progress, without script).
	Refresh int

	// zone finds the reader's time zone when a page first asks (Zone).
	zone     func() *time.Location
	zoneOnce sync.Once
	zoneLoc  *time.Location
}

// Zone is the time zone the times of a person's own pages are said in: the
// reader's own when they chose one, else their current account's, else
// the instance's (UTC for nobody logged in). It is looked up once, and only
// by a page that shows times.
func (p *page) Zone() *time.Location {
	p.zoneOnce.Do(func() {
		p.zoneLoc = time.UTC
		if p.zone != nil {
			p.zoneLoc = p.zone()
		}
	})
	return p.zoneLoc
}

// enrolBanner tells a member by when their account requires a second
// factor, and links to setting one up.
type enrolBanner struct {
	Deadline time.Time
	Href     string
}

func (w *Web) page(r *http.Request, title string) *page {
	p := &page{Locale: w.locale(r), Title: title, Path: r.URL.RequestURI(), DevMailbox: w.DevMailbox, Form: newForm()}
	if a, ok := httpauth.Auth(r); ok {
		u := a.User
		p.User = &u
		p.zone = func() *time.Location { return w.personZone(r, u) }
		p.Switcher = w.switcher(r)
		if m, _ := r.Context().Value(memoKey{}).(*memo); m != nil && m.enrol != nil {
			p.Enrol = &enrolBanner{Deadline: m.enrol.Deadline, Href: enrolPath + "?next=" + url.QueryEscape(r.URL.RequestURI())}
		}
	}
	return p
}

// authPages are the pages on the way in (signing in or up, an invitation,
// a password reset, a one-time link, a consent): they are framed by "auth",
// the brand above a card, which a vendor restyles through the classes and
// variables docs/branding.md lists rather than by overriding templates.
var authPages = map[string]bool{
	"login": true, "login_second_factor": true, "signup": true, "signup_confirm": true,
	"invitation": true, "forgot": true, "reset": true, "link": true,
	"consent": true, "oidc_consent": true, "oidc_continue": true, "oidc_logout": true,
}

// render executes a page's template into a buffer first, so that a
// template error becomes an error page rather than half a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, p *page) error {
	t, err := w.template(name, p.Locale)
	if err != nil {
		return err
	}
	frame := "layout"
	if authPages[name] {
		frame = "auth"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, frame, p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status == http.StatusTooManyRequests && p.Form != nil && p.Form.RetryAfter > 0 && rw.Header().Get("Retry-After") == "" {
		// A throttled form says how long to wait on the page, and to
		// programs in Retry-After.
		rw.Header().Set("Retry-After", strconv.Itoa(max(1, int((p.Form.RetryAfter+time.Second-1)/time.Second))))
	}
	rw.WriteHeader(status)
	_, err = buf.WriteTo(rw)
	return err
}

// fail shows an error page for err, with the status the API would answer
// it with: not found, forbidden, too many attempts, a conflict or a bad
// request with its own message, or (logged, without details) an internal
// error.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, err error) {
	e := equipe.AsError(err)
	status := problem.Status(e.Code)
	key := "error.internal"
	switch e.Code {
	case equipe.ENOTFOUND:
		if w.explainStanding(rw, r) {
			return
		}
		key = "error.not_found"
	case equipe.EFORBIDDEN, equipe.ECONSENT:
		key = "error.forbidden"
	case equipe.EUNAUTHORIZED:
		key = "error.unauthorized"
	case equipe.EINVALID, equipe.ECONFLICT, equipe.EBADREQUEST:
		key = e.Key
	case equipe.ERATELIMITED:
		key = "error.rate_limited"
		rw.Header().Set("Retry-After", fmt.Sprint(max(1, int(e.RetryAfter.Seconds()))))
	case equipe.EUNAVAILABLE:
		// The database busy (error.unavailable) or unreachable
		// (service.unavailable): each says so.
		key = e.Key
		rw.Header().Set("Retry-After", "1")
		w.Log.Warn("page met an unavailable database", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "err", err)
	default:
		status = http.StatusInternalServerError
		w.Log.Error("page failed", "method", r.Method, "path", httpauth.RedactPath(r.URL.Path), "err", err)
	}
	if !w.I18n.Has(key) {
		key = "error.internal"
	}
	rw.Header().Set("Cache-Control", "no-store")
	p := w.page(r, "page.error")
	p.Data = w.I18n.T(p.Locale, key, nil)
	if key == e.Key {
		// A rule's own message, with its arguments.
		p.Data = w.problem(p.Locale, e)
	}
	if rerr := w.render(rw, r, status, "error", p); rerr != nil {
		w.Log.Error("render error page", "err", rerr)
		http.Error(rw, http.StatusText(status), status)
	}
}

// redirect answers a successful form post: 303 See Other, so that reloading
// the next page does not post again.
func redirect(rw http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(rw, r, to, http.StatusSeeOther)
	return nil
}

// localPath returns next if it is a path on this site, else fallback. It
// refuses absolute URLs, scheme-relative ones (//evil.test) and backslash
// tricks (/\evil.test) so that a link cannot send someone elsewhere after
// logging in.
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	if path.Clean(u.Path) == "/logout" {
		return fallback
	}
	return next
}

// parse reads every page template, once per language.
func (w *Web) parse() error {
	w.pages = map[string]*pageSet{}
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return err
	}
	if w.base, err = template.New("").Funcs(w.funcs(equipe.LocaleFR)).ParseFS(templateFiles, "templates/shared/*.html"); err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".html") {
			continue
		}
		w.pages[strings.TrimSuffix(name, ".html")] = &pageSet{file: name}
	}
	return nil
}

// pageSet is a page's templates in each language, parsed once, when the
// page is first rendered.
type pageSet struct {
	file   string
	once   sync.Once
	byLang map[string]*template.Template
	err    error
}

// page returns the templates of the page name in locale.
func (w *Web) template(name, locale string) (*template.Template, error) {
	ps := w.pages[name]
	if ps == nil {
		return nil, fmt.Errorf("web: no template %q", name)
	}
	ps.once.Do(func() {
		ps.byLang = map[string]*template.Template{}
		for _, l := range equipe.Locales {
			t, err := w.base.Clone()
			if err == nil {
				_, err = t.Funcs(w.funcs(l)).ParseFS(templateFiles, "templates/"+ps.file)
			}
			if err != nil {
				ps.err = fmt.Errorf("web: template %s: %w", ps.file, err)
				return
			}
			ps.byLang[l] = t
		}
	})
	if ps.err != nil {
		return nil, ps.err
	}
	t := ps.byLang[locale]
	if t == nil {
		return nil, fmt.Errorf("web: no template %q in %q", name, locale)
	}
	return t, nil
}

func (w *Web) funcs(locale string) template.FuncMap {
	return template.FuncMap{
		// t translates a key; extra arguments are name/value pairs.
		"t": func(key string, kv ...any) string {
			var args map[string]any
			if len(kv) > 1 {
				args = map[string]any{}
				for i := 0; i+1 < len(kv); i += 2 {
					args[fmt.Sprint(kv[i])] = kv[i+1]
				}
			}
			return w.I18n.T(locale, key, args)
		},
		// brand is the vendor's look: name, logo, links.
		"brand": func() brand.Brand { return w.Brand.Load() },
		// colourValue is a colour as <input type="color"> takes it:
		// #rrggbb, black for anything else.
		"colourValue": func(s string) string {
			if c, err := brand.ParseColour(s); err == nil {
				return c.String()
			}
			return "#000000"
		},
		// brandCSSVersion is the digest in /static/brand.css's URL.
		"brandCSSVersion": func() string { _, v := w.Brand.CSS(); return v },
		// who names a person as "Name (email)", or by their address alone
		// when they have no name (name is then their address).
		"who": who,
		// tArgs translates a key with its arguments in a map.
		"tArgs": func(key string, args map[string]any) string {
			return w.I18n.T(locale, key, args)
		},
		"field": func(f *form, name, typ, label, autocomplete string, hint ...string) fieldData {
			d := fieldData{Form: f, Name: name, Type: typ, Label: label, Autocomplete: autocomplete}
			if len(hint) > 0 {
				d.Hint = hint[0]
			}
			return d
		},
		// problem is one line of a form's summary: the field's name and its
		// problem ("Prénom : ce champ est obligatoire.").
		"problem": func(f *form, name string) string { return w.summaryLine(locale, f, name) },
		"wait":    func(d time.Duration) string { return w.I18n.Wait(locale, d) },
		"clock":   clock,
		// status names a member's status as their account words it.
		"status": func(s equipe.MemberStatus, activation bool) string {
			return w.I18n.T(locale, statusKey(s, activation), nil)
		},
		// webhookFields pairs an endpoint form with its types.
		"webhookFields": func(f *form, h webhookForm) webhookFieldsData { return webhookFieldsData{Form: f, Hook: h} },
		"oidcClientFields": func(f *form, scopes []oidcScopeChoice, isNew bool) oidcClientFieldsData {
			return oidcClientFieldsData{Form: f, Scopes: scopes, New: isNew}
		},
		// sortHeader pairs a sortable column with its label's key.
		"sortHeader": func(c sortColumn, label string) sortHeader { return sortHeader{Column: c, Label: label} },
		// at says a moment in an account's time zone, with its offset.
		"at": func(t time.Time, loc *time.Location) string { return dateIn(locale, t, loc) },
		// passkeysOn reports whether passkeys can be used here.
		"passkeysOn": func() bool { return w.Identity != nil && w.Identity.PasskeysAvailable() },
		// meTabs lists the tabs of a person's own space.
		"meTabs": func() []meTab { return meTabs },
		"langURL": func(path, lang string) string {
			u, err := url.Parse(path)
			if err != nil {
				return "/?lang=" + lang
			}
			q := u.Query()
			q.Set("lang", lang)
			u.RawQuery = q.Encode()
			return u.RequestURI()
		},
	}
}

// clock says the time of day of a moment within the next hours in the
// time zone loc (an account's; nil is UTC): "14:05 UTC", or with the zone's
// offset "14:05 (UTC+01:00)". It says when a throttled action is possible
// again.
func clock(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if loc == time.UTC {
		return t.Format("15:04") + " UTC"
	}
	return t.Format("15:04") + " (UTC" + t.Format("-07:00") + ")"
}

// frenchMonths are the months as French abbreviates them.
var frenchMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// dateIn says a moment in the time zone loc (an account's), as each language
// writes it, with the zone's offset then: "2 déc. 2026, 14:05 (UTC+01:00)",
// "Dec 2, 2026, 2:05 PM (UTC+01:00)". A nil loc is UTC.
func dateIn(locale string, t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	offset := t.Format("-07:00")
	if locale == equipe.LocaleFR {
		return fmt.Sprintf("%d %s %d, %s (UTC%s)", t.Day(), frenchMonths[t.Month()-1], t.Year(), t.Format("15:04"), offset)
	}
	return t.Format("Jan 2, 2006, 3:04 PM") + " (UTC" + offset + ")"
}

// statusKey is the message key naming a member's status. An account that
// activates its members reads Inactive → Activation sent → Active: the
// same states as an invitation's, in the words of activation.
func statusKey(s equipe.MemberStatus, activation bool) string {
	if activation {
		switch s {
		case equipe.MemberCreated:
			return "status.inactive"
		case equipe.MemberInvited:
			return "status.activation_sent"
		}
	}
	return "status." + string(s)
}

// comeBackTo is where a request sent to another step first (logging in,
// the privacy policy, enrolling a second factor) comes back to: the page
// asked for; a form posted has no page of its own (the browser would open
// its address with GET, which answers nothing), so the home page.
func comeBackTo(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "/"
	}
	return r.URL.RequestURI()
}
