package team

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Page sizes of the lists.
const (
	// MaxMemberPage is the most members a page of the team lists.
	MaxMemberPage = equipe.MaxPage
	// DefaultPage is the size of a page a caller does not choose.
	DefaultPage = equipe.DefaultPage
)

// MemberFilter selects members of an account for the team page.
type MemberFilter struct {
	Account  equipe.ID
	Status   equipe.MemberStatus // "" for every status
	Role     string              // "" for every role
	Resource *equipe.ID          // members assigned to this resource
	// Client keeps, on a firm's team, the staff assigned to this client
	// account, which must be one of the firm's clients the actor reaches.
	Client *equipe.ID
	Search string     // words each found in some part of the first name, last name or email (100 characters at most)
	Sort   MemberSort // "" for SortName
	Desc   bool       // the order reversed
	After  string     // the cursor of the last row of the previous page
	Limit  int        // 1 to MaxMemberPage
}

// ParseMemberQuery reads the members list's filters from a query, as the
// team page and the members API both write them: status, role, resource,
// client, q (the search) and sort. The cursor and the page size are the
// caller's. A value that can select nothing answers EINVALID naming every
// parameter at fault, rather than being dropped: a list or an export that
// looks filtered but is not would mislead. Whether the client is one the
// actor reaches is the use case's to say (TeamPage, ExportMembers).
func ParseMemberQuery(account equipe.ID, q url.Values) (MemberFilter, error) {
	f := MemberFilter{Account: account, Status: equipe.MemberStatus(q.Get("status")), Role: q.Get("role"),
		Search: strings.TrimSpace(q.Get("q"))}
	var v equipe.Invalid
	if s := q.Get("resource"); s != "" {
		if id, err := equipe.ParseID(s); err != nil {
			v.Add("resource", "resource.unknown")
		} else {
			f.Resource = &id
		}
	}
	if s := q.Get("client"); s != "" {
		if id, err := equipe.ParseID(s); err != nil {
			v.Add("client", "member.client_filter_invalid")
		} else {
			f.Client = &id
		}
	}
	if sort, desc, err := ParseSort(q.Get("sort")); err != nil {
		v.Add("sort", "request.sort_invalid")
	} else {
		f.Sort, f.Desc = sort, desc
	}
	f.checkValues(&v)
	return f, v.Err()
}

// checkValues adds to v the filter's values that can select nothing.
func (f MemberFilter) checkValues(v *equipe.Invalid) {
	switch f.Status {
	case "", equipe.MemberCreated, equipe.MemberInvited, equipe.MemberActive, equipe.MemberSuspended:
	default:
		v.Add("status", "member.status_filter_invalid")
	}
	if utf8.RuneCountInString(f.Search) > 100 {
		v.AddArgs("q", "name.too_long", map[string]any{"max": 100})
	}
	if f.Sort != "" && !slices.Contains(Sorts, f.Sort) {
		v.Add("sort", "request.sort_invalid")
	}
}

// checkMemberFilter validates the filter (its page size too, when paged),
// answering EINVALID with the fields at fault; a client filter must name
// one of the firm's clients the actor reaches, so that it tells nothing of
// the others.
func (s *Service) checkMemberFilter(ctx context.Context, actor Actor, f MemberFilter, paged bool) error {
	var v equipe.Invalid
	f.checkValues(&v)
	if f.Client != nil {
		clients, err := s.Clients(ctx, actor, f.Account)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(clients, func(c Client) bool { return c.Account.ID == *f.Client }) {
			v.Add("client", "member.client_filter_invalid")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if paged {
		return equipe.Page{Limit: f.Limit}.Check()
	}
	return nil
}

// store returns the filter as the store reads it.
func (f MemberFilter) store() store.MemberFilter {
	return store.MemberFilter{Account: f.Account, Status: f.Status, Role: f.Role, Resource: f.Resource, Client: f.Client,
		Search: f.Search, Sort: store.MemberSort(f.Sort), Desc: f.Desc, After: f.After, Limit: f.Limit}
}

// MemberSort is an order of the team page: a column and, for SortName and
// ties, the last name, first name and user ID.
type MemberSort string

// The orders of the team page.
const (
	SortName      MemberSort = "name"       // last name, first name
	SortRole      MemberSort = "role"       // the role's key, then the name
	SortStatus    MemberSort = "status"     // active, created, invited, suspended; then the name
	SortLastLogin MemberSort = "last_login" // the last login to the account, never first; then the name
)

// Sorts are the team page's orders, in the order of its columns.
var Sorts = []MemberSort{SortName, SortRole, SortStatus, SortLastLogin}

// ParseSort reads an order as the team page's links and the API write it:
// a column, with a leading "-" for the reverse ("-last_login": the most
// recent first). "" is the name, ascending. Anything else answers EINVALID
// with the field "sort".
func ParseSort(s string) (MemberSort, bool, error) {
	desc := strings.HasPrefix(s, "-")
	sort := MemberSort(strings.TrimPrefix(s, "-"))
	if s == "" {
		return SortName, false, nil
	}
	if !slices.Contains(Sorts, sort) {
		return "", false, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "sort", Key: "request.sort_invalid"}}}
	}
	return sort, desc, nil
}

// FormatSort writes an order as ParseSort reads it.
func FormatSort(sort MemberSort, desc bool) string {
	if desc {
		return "-" + string(sort)
	}
	return string(sort)
}

// MemberRow is one line of the team page: a member under the names the
// account shows them, and what the reader may do with them. It is the
// use case's own type, so that handlers need nothing of the store.
type MemberRow struct {
	Member    equipe.Member
	Email     string
	FirstName string
	LastName  string
	// LastLoginAt is the member's last login to this account (zero: never).
	LastLoginAt time.Time
	Resources   []equipe.ID
	// Undelivered: the member has not joined, and the last email to their
	// login email since they were last invited could not be delivered.
	Undelivered bool
	// SecondFactor: the member joined and has a second factor (an
	// authenticator app or a passkey).
	SecondFactor bool
	// UserDisabled: the member joined and the instance disabled their
	// identity: they cannot log in, and every check about them is denied,
	// here as in every account.
	UserDisabled bool
	Actions      Actions
}

// TeamPage returns a page of the account's members for the team page and
// the members API, each with the actions the actor may take on them, and
// the cursor of the next page. The actor must be able to view the
// account's members.
func (s *Service) TeamPage(ctx context.Context, actor Actor, f MemberFilter) ([]MemberRow, string, error) {
	if _, _, err := s.authorize(ctx, actor, f.Account, "members.view"); err != nil {
		return nil, "", err
	}
	if err := s.checkMemberFilter(ctx, actor, f, true); err != nil {
		return nil, "", err
	}
	rows, next, err := s.DB.ListMembers(ctx, f.store())
	if err != nil {
		return nil, "", err
	}
	rc, err := s.readCase(ctx, actor, f.Account)
	if err != nil {
		return nil, "", err
	}
	users := make([]equipe.ID, 0, len(rows))
	for _, r := range rows {
		if r.Member.Status == equipe.MemberActive {
			users = append(users, r.Member.UserID)
		}
	}
	if err := rc.prefetch(users); err != nil {
		return nil, "", err
	}
	all := make([]equipe.ID, 0, len(rows))
	for _, r := range rows {
		all = append(all, r.Member.UserID)
	}
	if err := rc.prefetchThrottles(all); err != nil {
		return nil, "", err
	}
	// Who has a second factor, for the whole page in one query: of those
	// who joined, since it would tell of the others that their address has
	// an identity.
	joined := make([]equipe.ID, 0, len(rows))
	for _, r := range rows {
		if !r.Member.JoinedAt.IsZero() {
			joined = append(joined, r.Member.UserID)
		}
	}
	factors, err := s.DB.UsersWithFactor(ctx, joined)
	if err != nil {
		return nil, "", err
	}
	out := make([]MemberRow, 0, len(rows))
	for _, r := range rows {
		r.Resources = orEmpty(r.Resources)
		acts, err := s.memberActions(rc.of(r.Member, r.Resources, r.UserDisabled))
		if err != nil {
			return nil, "", err
		}
		out = append(out, MemberRow{Member: r.Member, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName,
			LastLoginAt: r.LastLoginAt, Resources: r.Resources, Undelivered: r.Undelivered, SecondFactor: factors[r.Member.UserID],
			UserDisabled: r.UserDisabled, Actions: acts})
	}
	return out, next, nil
}

// MemberCounts are the numbers of an account's members: in all, and by
// status.
type MemberCounts struct {
	Total    int
	ByStatus map[equipe.MemberStatus]int
}

// CountMembers counts the account's members, in all and by status, for the
// team page's heading and status filters. The actor must be able to view
// the account's members.
func (s *Service) CountMembers(ctx context.Context, actor Actor, account equipe.ID) (MemberCounts, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return MemberCounts{}, err
	}
	c, err := s.DB.CountMembers(ctx, account)
	return MemberCounts{Total: c.Total, ByStatus: c.ByStatus}, err
}

// AuditFilter selects events of an account's audit log.
type AuditFilter struct {
	Type    event.Type // "" for every kind
	ActorID *equipe.ID // events by this user or key
	Subject string     // events about this thing (a member's user ID…)
	Page    equipe.Page
}

// auditList names the cursors of the account's audit log.
func auditList(account equipe.ID) string { return "audit/" + account.String() }

// AuditPage returns a page of the account's change events, newest first,
// read back typed, with the cursor of the next page. The actor needs
// audit.view. People are shown as the reader may know them (see
// logReader.seen): one of the firm's staff acts with no ID for the client's
// own members and keys, and filtering by them selects nothing. Returns
// EINVALID for a filter value that can select nothing (see
// AuditFilter.check), naming "type" or "target".
func (s *Service) AuditPage(ctx context.Context, actor Actor, account equipe.ID, f AuditFilter) ([]event.Event, string, error) {
	lr, err := s.logReader(ctx, actor, account)
	if err != nil {
		return nil, "", err
	}
	if err := f.Page.Check(); err != nil {
		return nil, "", err
	}
	if err := f.check(); err != nil {
		return nil, "", err
	}
	before, err := f.Page.KeyID(auditList(account))
	if err != nil {
		return nil, "", err
	}
	if hidden, err := lr.hidesActor(ctx, f); err != nil || hidden {
		return []event.Event{}, "", err
	}
	// One more than the page tells whether there is a next one.
	rows, err := s.DB.AuditEvents(ctx, store.AuditFilter{AccountID: &account, ActorID: f.ActorID, Action: string(f.Type),
		TargetID: f.Subject, Before: before, Limit: f.Page.Limit + 1})
	if err != nil {
		return nil, "", err
	}
	rows, next := equipe.Cut(rows, f.Page, auditList(account), func(e equipe.AuditEvent) []string { return []string{e.ID.String()} })
	out := make([]event.Event, 0, len(rows))
	for _, r := range rows {
		e, err := lr.seen(ctx, event.Decode(r))
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	return out, next, nil
}

// Account returns an account the actor may see (any member, an API key of
// the account, the instance).
func (s *Service) Account(ctx context.Context, actor Actor, account equipe.ID) (equipe.Account, error) {
	m, _, err := s.actorMember(ctx, actor, account)
	if err != nil {
		return equipe.Account{}, err
	}
	if m == nil {
		s.refusedAcross(ctx, actor, account, "account")
		return equipe.Account{}, notFound()
	}
	return s.DB.AccountByID(ctx, account)
}

// Actions on an account, each needing its permission there.
const (
	AccountViewMembers     = "view_members"     // members.view: the team, roles, contacts
	AccountAddMember       = "add_member"       // members.manage
	AccountExportMembers   = "export_members"   // members.export
	AccountManageRoles     = "manage_roles"     // roles.manage
	AccountManageContacts  = "manage_contacts"  // contacts.manage
	AccountManageResources = "manage_resources" // resources.manage
	AccountManageClients   = "manage_clients"   // subaccounts.manage, in a firm (not a client account)
	AccountViewAudit       = "view_audit"       // audit.view
	AccountChangeSettings  = "change_settings"  // account.manage
	AccountManageKeys      = "manage_keys"      // api_keys.manage: list and revoke keys
	AccountCreateKey       = "create_key"       // api_keys.manage, by a person whose address is confirmed
	AccountManageWebhooks  = "manage_webhooks"  // webhooks.manage: the account's webhook endpoints
	AccountCreateWebhook   = "create_webhook"   // webhooks.manage and audit.view (see webhookRights)
)

// accountActions pairs each action on an account with its permission.
var accountActions = []struct{ name, permission string }{
	{AccountViewMembers, "members.view"}, {AccountAddMember, "members.manage"}, {AccountExportMembers, "members.export"},
	{AccountManageRoles, "roles.manage"},
	{AccountManageContacts, "contacts.manage"}, {AccountManageResources, "resources.manage"},
	{AccountManageClients, "subaccounts.manage"}, {AccountViewAudit, "audit.view"},
	{AccountChangeSettings, "account.manage"}, {AccountManageKeys, "api_keys.manage"},
	{AccountCreateKey, "api_keys.manage"}, {AccountManageWebhooks, "webhooks.manage"},
	{AccountCreateWebhook, "webhooks.manage"}, {AccountEndFirmAccess, "account.manage"},
	{AccountDelete, "account.manage"},
}

// AccountActions answers what the actor may do in the account, each action
// with the refusal its use cases would answer. Anyone who reaches the
// account may know it, whatever they may view; an account out of reach
// answers ENOTFOUND.
func (s *Service) AccountActions(ctx context.Context, actor Actor, account equipe.ID) (Actions, error) {
	m, a, err := s.actorMember(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	if m == nil {
		s.refusedAcross(ctx, actor, account, "account")
		return nil, notFound()
	}
	return s.accountActions(ctx, actor, account, m, a)
}

func (s *Service) accountActions(ctx context.Context, actor Actor, account equipe.ID, m *access.Member, a *access.Account) (Actions, error) {
	out := make(Actions, 0, len(accountActions))
	for _, act := range accountActions {
		err := s.permission(m, a, act.permission)
		if err == nil && act.name == AccountManageClients {
			acct, aerr := s.loadAccount(ctx, account)
			if aerr != nil {
				return nil, aerr
			}
			if acct.parent != nil {
				// Access reaches one level down: a client has no clients.
				err = conflict("client.nested", nil)
			}
		}
		if err == nil && act.name == AccountCreateKey {
			err = keyMaker(actor)
		}
		if err == nil && act.name == AccountCreateWebhook {
			// An endpoint receives the account's log (see webhookRights).
			err = s.permission(m, a, "audit.view")
		}
		if err == nil && act.name == AccountEndFirmAccess {
			acct, aerr := s.loadAccount(ctx, account)
			if aerr != nil {
				return nil, aerr
			}
			err = s.mayEndFirmAccess(actor, m, a, acct.parent)
		}
		if err == nil && act.name == AccountDelete {
			err = s.mayDeleteAccount(ctx, actor, account, m, a)
		}
		out = append(out, ActionAnswer{Name: act.name, Allowed: allowed(err)})
	}
	return out, nil
}

// AccountChange is a change to an account's settings: each field given
// (non-nil) is set.
type AccountChange struct {
	Name               *string
	Locale             *string
	RequiresActivation *bool
	InvitationTTLHours *int
	NotifyAdder        *equipe.NotifyAdder
	// TimeZone is an IANA name of TimeZones, or "" for the instance's zone.
	TimeZone *string
	// MFARequired makes members have a second factor (from now, when it
	// was not required), MFAGraceHours (0 to MaxMFAGraceHours) after the
	// requirement or their joining at the latest.
	MFARequired   *bool
	MFAGraceHours *int
	// SCIMEnabled lets a directory provision the account's members through
	// SCIM, with an account key made for it.
	SCIMEnabled *bool
}

// MaxMFAGraceHours is the longest grace an account gives its members to
// enrol a second factor: ninety days.
const MaxMFAGraceHours = 90 * 24

// Limits of the invitation lifetime: an hour to thirty days.
const (
	minInvitationTTL = 1
	maxInvitationTTL = 30 * 24
)

// UpdateAccount changes the account's settings. The actor needs
// account.manage. A change that changes nothing writes nothing and returns
// the account as it was.
func (s *Service) UpdateAccount(ctx context.Context, actor Actor, account equipe.ID, ch AccountChange) (equipe.Account, error) {
	if _, _, err := s.authorize(ctx, actor, account, "account.manage"); err != nil {
		return equipe.Account{}, err
	}
	var v equipe.Invalid
	if ch.Name != nil {
		n := identity.CheckName(&v, "name", *ch.Name)
		ch.Name = &n
	}
	if ch.Locale != nil && !equipe.ValidLocale(*ch.Locale) {
		v.Add("locale", "locale.invalid")
	}
	if ch.InvitationTTLHours != nil && (*ch.InvitationTTLHours < minInvitationTTL || *ch.InvitationTTLHours > maxInvitationTTL) {
		v.AddArgs("invitation_ttl_hours", "account.ttl_invalid", map[string]any{"min": minInvitationTTL, "max": maxInvitationTTL})
	}
	if ch.NotifyAdder != nil && !ch.NotifyAdder.Valid() {
		v.Add("notify_adder", "account.notify_adder_invalid")
	}
	if ch.TimeZone != nil && *ch.TimeZone != "" && !ValidTimeZone(*ch.TimeZone) {
		v.Add("time_zone", "account.time_zone_invalid")
	}
	if ch.MFAGraceHours != nil && (*ch.MFAGraceHours < 0 || *ch.MFAGraceHours > MaxMFAGraceHours) {
		v.AddArgs("mfa_grace_hours", "account.mfa_grace_invalid", map[string]any{"max": MaxMFAGraceHours})
	}
	if err := v.Err(); err != nil {
		return equipe.Account{}, err
	}
	var after equipe.Account
	err := s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.AccountByID(ctx, account)
		if err != nil {
			return err
		}
		after = before
		if ch.Name != nil {
			after.Name = strings.TrimSpace(*ch.Name)
		}
		if ch.Locale != nil {
			after.Locale = *ch.Locale
		}
		if ch.RequiresActivation != nil {
			after.RequiresActivation = *ch.RequiresActivation
		}
		if ch.InvitationTTLHours != nil {
			after.InvitationTTLHours = *ch.InvitationTTLHours
		}
		if ch.NotifyAdder != nil {
			after.NotifyAdder = *ch.NotifyAdder
		}
		if ch.TimeZone != nil {
			after.TimeZone = *ch.TimeZone
		}
		if ch.MFARequired != nil {
			switch {
			case !*ch.MFARequired:
				after.MFARequiredAt = time.Time{}
			case after.MFARequiredAt.IsZero():
				// The grace counts from now; requiring again what is
				// required keeps the time it started.
				after.MFARequiredAt = u.Now()
			}
		}
		if ch.MFAGraceHours != nil {
			after.MFAGraceHours = *ch.MFAGraceHours
		}
		if ch.SCIMEnabled != nil {
			after.SCIMEnabled = *ch.SCIMEnabled
		}
		b, a := event.SettingsOf(before), event.SettingsOf(after)
		if event.Same(b, a) {
			after = before
			return nil
		}
		if err := u.UpdateAccount(ctx, &after); err != nil {
			return err
		}
		if after.Locale != before.Locale {
			// Every role is named in the account's language, for a
			// directory too (its groups, its members' groups).
			custom, err := u.Roles(ctx, account)
			if err != nil {
				return err
			}
			var keys []string
			for _, r := range s.Catalogue.Roles {
				keys = append(keys, r.Key)
			}
			for _, r := range custom {
				keys = append(keys, r.Key)
			}
			if err := u.RolesRenamed(ctx, account, keys, u.Now()); err != nil {
				return err
			}
		}
		return u.Record(ctx, event.AccountChanged.In(account, account.String(), &b, &a))
	})
	return after, err
}

// Resources returns the account's resources (locations, products…),
// archived ones included (see equipe.Resource.Archived), for pickers, the
// team page's filter and the names of the audit log. The actor must be able
// to view the account's members.
func (s *Service) Resources(ctx context.Context, actor Actor, account equipe.ID) ([]equipe.Resource, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return nil, err
	}
	return s.DB.Resources(ctx, account)
}
