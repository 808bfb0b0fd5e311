package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// ExportFormat names the format of a person's data export and its version:
// a new version is a change a reader of the old one would misread (a field
// removed or its meaning changed); fields are added within a version.
const ExportFormat = "equipe.user-export/1"

// Export is everything equipe holds about a person, without a secret:
// their identity, memberships, acceptances of the privacy policy, sessions,
// second factors, API keys they made, the clients they let in and what
// they agreed those may ask, the client accounts their firm assigned them
// to, and the audit events they made or that are about them.
// docs/data-rights.md describes each field.
type Export struct {
	Format            string              `json:"format"`
	ExportedAt        time.Time           `json:"exported_at"`
	User              ExportUser          `json:"user"`
	Memberships       []ExportMember      `json:"memberships"`
	ClientAssignments []ExportAssignment  `json:"client_assignments"`
	Consents          []ExportConsent     `json:"consents"`
	Sessions          []ExportSession     `json:"sessions"`
	KnownBrowsers     []ExportBrowser     `json:"known_browsers"`
	SecondFactors     []ExportFactor      `json:"second_factors"`
	APIKeys           []ExportKey         `json:"api_keys"`
	OIDCConsents      []ExportOIDCConsent `json:"oidc_consents"`
	OIDCGrants        []ExportOIDCGrant   `json:"oidc_grants"`
	Events            []ExportEvent       `json:"events"`
}

// ExportUser is a person's identity in an export (no password hash: only
// when the password was last changed).
type ExportUser struct {
	ID                equipe.ID  `json:"id"`
	Email             string     `json:"email"`
	FirstName         string     `json:"first_name"`
	LastName          string     `json:"last_name"`
	Locale            string     `json:"locale"`
	NotificationEmail string     `json:"notification_email"`
	EmailVerifiedAt   *time.Time `json:"email_verified_at"`
	PasswordChangedAt *time.Time `json:"password_changed_at"`
	InstanceAdmin     bool       `json:"instance_admin"`
	DisabledAt        *time.Time `json:"disabled_at"`
	LastLoginAt       *time.Time `json:"last_login_at"`
	CreatedAt         time.Time  `json:"created_at"`
	TimeZone          string     `json:"time_zone"`
	NewBrowserAlerts  bool       `json:"new_browser_alerts"`
	// PendingNotificationEmail is the notification address a link was
	// sent to and not yet used; nil when none waits.
	PendingNotificationEmail *ExportPendingEmail `json:"pending_notification_email"`
	// PendingEmailChange is the login email asked for and not yet
	// confirmed; nil when none waits.
	PendingEmailChange *ExportPendingEmail `json:"pending_email_change"`
}

// ExportPendingEmail is an address waiting for the link sent to it (never
// the link): when it was asked for and until when the link works.
type ExportPendingEmail struct {
	Email       string    `json:"email"`
	RequestedAt time.Time `json:"requested_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// ExportAssignment is an assignment, by the person's firm, to one of the
// firm's client accounts.
type ExportAssignment struct {
	ClientID   equipe.ID `json:"client_id"`
	ClientName string    `json:"client_name"`
	FirmID     equipe.ID `json:"firm_id"`
	FirmName   string    `json:"firm_name"`
	AssignedAt time.Time `json:"assigned_at"`
}

// ExportOIDCConsent is what the person agreed an OpenID Connect client may
// ask.
type ExportOIDCConsent struct {
	ClientID   equipe.ID `json:"client_id"`
	ClientName string    `json:"client_name"`
	Scopes     []string  `json:"scopes"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ExportOIDCGrant is an OpenID Connect client's access for the person, from
// a login through it until it ended (never its tokens).
type ExportOIDCGrant struct {
	ID              string     `json:"id"`
	ClientID        equipe.ID  `json:"client_id"`
	ClientName      string     `json:"client_name"`
	AccountID       *equipe.ID `json:"account_id"`
	Scopes          []string   `json:"scopes"`
	AuthenticatedAt time.Time  `json:"authenticated_at"`
	Methods         []string   `json:"methods"`
	CreatedAt       time.Time  `json:"created_at"`
	EndedAt         *time.Time `json:"ended_at"`
}

// ExportBrowser is a browser the person logged in from (the hash of its
// cookie is left out).
type ExportBrowser struct {
	FirstSeenAt time.Time `json:"first_seen_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
}

// ExportMember is a membership of an account in an export, with the
// changes made to it (its events in the account's log).
type ExportMember struct {
	AccountID         equipe.ID           `json:"account_id"`
	AccountName       string              `json:"account_name"`
	Role              string              `json:"role"`
	Status            equipe.MemberStatus `json:"status"`
	Title             string              `json:"title"`
	Overrides         []equipe.Override   `json:"overrides"`
	NotificationEmail string              `json:"notification_email"`
	InvitationsSent   int                 `json:"invitations_sent"`
	JoinedAt          *time.Time          `json:"joined_at"`
	LastLoginAt       *time.Time          `json:"last_login_at"`
	CreatedAt         time.Time           `json:"created_at"`
	Changes           []ExportChange      `json:"changes"`
}

// ExportChange is one change of a membership: the event's ID (in Events),
// kind and time.
type ExportChange struct {
	EventID equipe.ID  `json:"event_id"`
	Type    event.Type `json:"type"`
	At      time.Time  `json:"at"`
}

// ExportConsent is an acceptance of a version of the privacy policy.
type ExportConsent struct {
	Version     string    `json:"version"`
	Label       string    `json:"label"`
	PublishedAt time.Time `json:"published_at"`
	AcceptedAt  time.Time `json:"accepted_at"`
	IP          string    `json:"ip"`
}

// ExportSession is a session (never its secret).
type ExportSession struct {
	ID         equipe.ID  `json:"id"`
	AccountID  *equipe.ID `json:"account_id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	IP         string     `json:"ip"`
	UserAgent  string     `json:"user_agent"`
}

// ExportFactor is a second factor (never its secret): kind "totp",
// "passkey" (with its name) or "recovery_codes" (with how many are left).
type ExportFactor struct {
	Kind        string     `json:"kind"`
	Name        string     `json:"name,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	Remaining   *int       `json:"remaining,omitempty"`
}

// ExportKey is an API key the person made (never its secret).
type ExportKey struct {
	ID         equipe.ID  `json:"id"`
	AccountID  *equipe.ID `json:"account_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// ExportEvent is an audit event the person made or that is about them,
// with its states as recorded.
type ExportEvent struct {
	ID        equipe.ID       `json:"id"`
	Type      event.Type      `json:"type"`
	AccountID *equipe.ID      `json:"account_id"`
	Actor     event.Actor     `json:"actor"`
	Subject   event.Subject   `json:"subject"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	IP        string          `json:"ip"`
	At        time.Time       `json:"at"`
}

// mayActOn reports whether by may export or delete the user's data: the
// person themself, or an instance administrator. Anyone else is told the
// user does not exist.
func mayActOn(by *equipe.User, userID equipe.ID) error {
	if by.ID == userID || by.InstanceAdmin {
		return nil
	}
	return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
}

// ExportData returns everything equipe holds about the user, for the person
// themself or an instance administrator (anyone else: ENOTFOUND), and
// records that it was exported, by whom.
func (s *Service) ExportData(ctx context.Context, by equipe.User, userID equipe.ID, o equipe.Origin) (Export, error) {
	if err := mayActOn(&by, userID); err != nil {
		return Export{}, err
	}
	var x Export
	err := s.Work.Do(ctx, event.ByUser(by.ID), o, func(w *work.Unit) error {
		var err error
		x, err = export(ctx, w.Queries, userID, w.Now())
		if err != nil {
			return err
		}
		return w.Record(ctx, event.UserDataExported.New(nil, userID.String(), nil, nil))
	})
	// Each version accepted is named as people read it, in the person's
	// language, never by its digest alone.
	for i, c := range x.Consents {
		switch {
		case c.Label != "":
		case s.PolicyLabel != nil:
			x.Consents[i].Label = s.PolicyLabel(mail.Locale(x.User.Locale), equipe.PrivacyPolicy{Version: c.Version, PublishedAt: c.PublishedAt})
		default:
			x.Consents[i].Label = c.PublishedAt.UTC().Format(time.DateOnly)
		}
	}
	return x, err
}

// export reads the user's data with q at now.
func export(ctx context.Context, q store.Queries, userID equipe.ID, now time.Time) (Export, error) {
	u, err := q.UserByID(ctx, userID)
	if err != nil {
		return Export{}, err
	}
	x := Export{Format: ExportFormat, ExportedAt: now, User: ExportUser{ID: u.ID, Email: u.Email, FirstName: u.FirstName,
		LastName: u.LastName, Locale: u.Locale, NotificationEmail: u.NotificationEmail, EmailVerifiedAt: when(u.EmailVerifiedAt),
		PasswordChangedAt: when(u.PasswordChangedAt), InstanceAdmin: u.InstanceAdmin, DisabledAt: when(u.DisabledAt),
		LastLoginAt: when(u.LastLoginAt), CreatedAt: u.CreatedAt, TimeZone: u.TimeZone},
		Memberships: []ExportMember{}, ClientAssignments: []ExportAssignment{}, Consents: []ExportConsent{},
		Sessions: []ExportSession{}, KnownBrowsers: []ExportBrowser{}, SecondFactors: []ExportFactor{}, APIKeys: []ExportKey{},
		OIDCConsents: []ExportOIDCConsent{}, OIDCGrants: []ExportOIDCGrant{}, Events: []ExportEvent{}}
	if x.User.PendingNotificationEmail, err = pendingEmail(ctx, q, userID, equipe.TokenNotificationEmail, now); err != nil {
		return x, err
	}
	if x.User.PendingEmailChange, err = pendingEmail(ctx, q, userID, equipe.TokenEmailChange, now); err != nil {
		return x, err
	}

	rows, err := q.EventsOfUser(ctx, userID)
	if err != nil {
		return x, err
	}
	changes := map[equipe.ID][]ExportChange{}
	for _, r := range rows {
		// The address a request came from is its maker's: the person's own
		// requests show theirs, someone else's acting on them do not.
		ip := ""
		if r.ActorID != nil && *r.ActorID == userID {
			ip = r.IP
		}
		x.Events = append(x.Events, ExportEvent{ID: r.ID, Type: event.Type(r.Action), AccountID: r.AccountID,
			Actor:   event.Actor{Kind: event.ActorKind(r.ActorType), ID: r.ActorID, Name: r.ActorName},
			Subject: event.Subject{Kind: event.SubjectKind(r.TargetType), ID: r.TargetID},
			Before:  rawState(r.Before), After: rawState(r.After), IP: ip, At: r.At})
		if r.AccountID != nil && r.TargetType == string(event.SubjectUser) && r.TargetID == userID.String() {
			changes[*r.AccountID] = append(changes[*r.AccountID], ExportChange{EventID: r.ID, Type: event.Type(r.Action), At: r.At})
		}
	}

	members, err := q.AccountsOfUser(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, ma := range members {
		m := ma.Member
		ovs := m.Overrides
		if ovs == nil {
			ovs = []equipe.Override{}
		}
		ch := changes[ma.Account.ID]
		if ch == nil {
			ch = []ExportChange{}
		}
		x.Memberships = append(x.Memberships, ExportMember{AccountID: ma.Account.ID, AccountName: ma.Account.Name,
			Role: m.Role, Status: m.Status, Title: m.Title, Overrides: ovs, NotificationEmail: m.NotificationEmail,
			InvitationsSent: m.InvitationsSent, JoinedAt: when(m.JoinedAt), LastLoginAt: when(m.LastLoginAt),
			CreatedAt: m.CreatedAt, Changes: ch})
	}

	assignments, err := q.AssignmentRecords(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, a := range assignments {
		x.ClientAssignments = append(x.ClientAssignments, ExportAssignment{ClientID: a.Client, ClientName: a.ClientName,
			FirmID: a.Firm, FirmName: a.FirmName, AssignedAt: a.AssignedAt})
	}

	consents, err := q.Consents(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, c := range consents {
		x.Consents = append(x.Consents, ExportConsent{Version: c.Version, Label: c.Label, PublishedAt: c.PublishedAt,
			AcceptedAt: c.AcceptedAt, IP: c.IP})
	}

	sessions, err := q.Sessions(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, ss := range sessions {
		x.Sessions = append(x.Sessions, ExportSession{ID: ss.ID, AccountID: ss.AccountID, CreatedAt: ss.CreatedAt,
			LastSeenAt: ss.LastSeenAt, ExpiresAt: ss.ExpiresAt, IP: ss.IP, UserAgent: ss.UserAgent})
	}

	if x.User.NewBrowserAlerts, err = q.NewBrowserAlerts(ctx, userID); err != nil {
		return x, err
	}
	browsers, err := q.KnownBrowsers(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, b := range browsers {
		x.KnownBrowsers = append(x.KnownBrowsers, ExportBrowser{FirstSeenAt: b.FirstSeenAt, LastSeenAt: b.LastSeenAt})
	}

	factors, err := q.FactorRecords(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, f := range factors {
		ef := ExportFactor{Kind: f.Kind, Name: f.Name, CreatedAt: f.CreatedAt, LastUsedAt: when(f.LastUsedAt)}
		switch f.Kind {
		case "totp":
			ef.ConfirmedAt = when(f.ConfirmedAt)
		case "recovery_codes":
			n := f.Count
			ef.Remaining = &n
		}
		x.SecondFactors = append(x.SecondFactors, ef)
	}

	keys, err := q.KeysCreatedBy(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, k := range keys {
		x.APIKeys = append(x.APIKeys, ExportKey{ID: k.ID, AccountID: k.AccountID, Name: k.Name, Prefix: k.Prefix,
			Role: k.Role, CreatedAt: k.CreatedAt, LastUsedAt: when(k.LastUsedAt), RevokedAt: when(k.RevokedAt)})
	}

	agreed, _, err := q.OIDCConsents(ctx, userID, equipe.Page{})
	if err != nil {
		return x, err
	}
	for _, c := range agreed {
		x.OIDCConsents = append(x.OIDCConsents, ExportOIDCConsent{ClientID: c.ClientID, ClientName: c.ClientName,
			Scopes: nonNil(c.Scopes), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	grants, err := q.GrantRecords(ctx, userID)
	if err != nil {
		return x, err
	}
	for _, g := range grants {
		x.OIDCGrants = append(x.OIDCGrants, ExportOIDCGrant{ID: g.ID, ClientID: g.ClientID, ClientName: g.ClientName,
			AccountID: g.AccountID, Scopes: nonNil(g.Scopes), AuthenticatedAt: g.AuthTime, Methods: nonNil(g.AMR),
			CreatedAt: g.CreatedAt, EndedAt: when(g.EndedAt)})
	}
	return x, nil
}

// pendingEmail is the address the user's usable token of kind waits on at
// now, or nil when there is none.
func pendingEmail(ctx context.Context, q store.Queries, userID equipe.ID, kind equipe.TokenKind, now time.Time) (*ExportPendingEmail, error) {
	t, err := q.UsableToken(ctx, userID, kind, now)
	switch equipe.ErrorCode(err) {
	case "":
		return &ExportPendingEmail{Email: t.Email, RequestedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}, nil
	case equipe.ENOTFOUND:
		return nil, nil
	}
	return nil, err
}

// nonNil is s, or an empty list for nil: a list is [] in an export, never
// null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// when is t, or nil when it is zero (never).
func when(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// rawState is a stored state as JSON, null when there is none.
func rawState(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(s)
}

// Limits on confirming a deletion with one's password: it is guessable like
// a login.
const (
	deleteTries  = 5
	deleteWindow = 15 * time.Minute
)

// Deletion is what erasing an identity did.
type Deletion struct {
	// Pseudonym is the ID the audit log names the person by from now on.
	Pseudonym     equipe.ID
	SessionsEnded int
	KeysRevoked   int
	AccountsLeft  int
}

// PseudonymLabel is how a deleted person is named where their events
// named them (an email, a name): "deleted-" and the start of their
// pseudonym, the same in every event.
func PseudonymLabel(p equipe.ID) string {
	return "deleted-" + strings.ReplaceAll(p.String(), "-", "")[:12]
}

// AccountsHeldAlone returns the accounts of which the user is the only
// active administrator: while there is one, their identity cannot be
// deleted (someone must be made administrator there first). For the person
// themself or an instance administrator.
func (s *Service) AccountsHeldAlone(ctx context.Context, by equipe.User, userID equipe.ID) ([]equipe.Account, error) {
	if err := mayActOn(&by, userID); err != nil {
		return nil, err
	}
	return s.DB.AccountsHeldAlone(ctx, userID)
}

// DeleteUser erases a person's identity, for the person themself (who
// confirms it with their password) or an instance administrator. In one
// unit of work it revokes the API keys they made, ends their assignments to
// firms' clients (each recorded in the firm's log), removes their
// memberships (each recorded in the account's log), ends their sessions,
// deletes their identity with its tokens, consents and second factors, the
// emails to their addresses, and rewrites the audit log so that it names
// them by a pseudonym, with no email or name of theirs left; then it tells
// them by email at the address they had.
//
// Returns ENOTFOUND for an unknown user (or one out of by's reach),
// EINVALID "password" for a missing or wrong password, ERATELIMITED after
// too many tries, and ECONFLICT "user.last_admin" while they are the only
// active administrator of an account (Args "accounts": the names), and
// ECONFLICT "user.last_instance_admin" for the instance's only administrator.
func (s *Service) DeleteUser(ctx context.Context, by equipe.User, userID equipe.ID, password string, o equipe.Origin) (Deletion, error) {
	if err := mayActOn(&by, userID); err != nil {
		return Deletion{}, err
	}
	self := by.ID == userID
	u, err := s.DB.UserByID(ctx, userID)
	if err != nil {
		return Deletion{}, err
	}
	if self {
		if password == "" {
			return Deletion{}, fieldError("password", "delete.password_required")
		}
		err := s.Work.Do(ctx, event.ByUser(by.ID), o, func(w *work.Unit) error {
			return w.Limit(ctx, "delete:user:"+u.ID.String(), deleteTries, deleteWindow, "")
		})
		if err != nil {
			return Deletion{}, err
		}
		if ok, _ := s.Hasher.Verify(u.PasswordHash, password); !ok || u.PasswordHash == "" {
			return Deletion{}, fieldError("password", "delete.password_incorrect")
		}
	}
	d := Deletion{Pseudonym: equipe.NewUserID()}
	err = s.Work.Do(ctx, event.ByUser(by.ID), o, func(w *work.Unit) error {
		u, err := w.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		return s.deleteUser(ctx, w, &u, self, &d)
	})
	return d, err
}

// fieldError is EINVALID with one field's problem.
func fieldError(field, key string) error {
	return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: field, Key: key}}}
}

// Keys of a password or a code left empty where one must be given to
// confirm: an empty field is no wrong answer, so it is refused before
// anything is counted against the person or recorded (see blank).
const (
	keyConfirmPasswordRequired = "password.confirm_required"
	keyCurrentPasswordRequired = "password.current_required"
	keyCodeRequired2FA         = "second_factor.required"
	keyAppCodeRequired         = "totp.code_required"
)

// blank adds to v the error key on field when value, a password or a
// second factor's code (spaces and dashes aside), is empty.
func blank(v *equipe.Invalid, field, key, value string) {
	if field == "code" {
		value = normaliseCode(value)
	}
	if value == "" {
		v.Add(field, key)
	}
}

// required is blank for one field: the error, or nil.
func required(field, key, value string) error {
	var v equipe.Invalid
	blank(&v, field, key, value)
	return v.Err()
}

// deleteUser erases u in the unit; see DeleteUser.
func (s *Service) deleteUser(ctx context.Context, w *work.Unit, u *equipe.User, self bool, d *Deletion) error {
	members, err := w.AccountsOfUser(ctx, u.ID)
	if err != nil {
		return err
	}
	var alone []string
	for _, ma := range members {
		if ma.Member.Role != equipe.RoleAdmin || ma.Member.Status != equipe.MemberActive {
			continue
		}
		// Locked: an administrator demoted meanwhile elsewhere cannot leave
		// the account with none.
		admins, err := w.LockActiveAdmins(ctx, ma.Account.ID)
		if err != nil {
			return err
		}
		if len(admins) <= 1 {
			alone = append(alone, ma.Account.Name)
		}
	}
	if len(alone) > 0 {
		return &equipe.Error{Code: equipe.ECONFLICT, Key: "user.last_admin", Args: map[string]any{"accounts": strings.Join(alone, ", ")}}
	}
	if u.InstanceAdmin {
		admins, err := w.LockInstanceAdmins(ctx)
		if err != nil {
			return err
		}
		if len(admins) <= 1 && slices.Contains(admins, u.ID) {
			return equipe.Errorf(equipe.ECONFLICT, "user.last_instance_admin")
		}
	}

	keys, err := w.ActiveKeysCreatedBy(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := w.RevokeAPIKey(ctx, k.AccountID, k.ID, w.Now(), event.ReasonCreatorDeleted); err != nil {
			return err
		}
		if err := w.Record(ctx, event.KeyRevoked.New(k.AccountID, k.ID.String(), nil, &event.Revocation{Reason: event.ReasonCreatorDeleted})); err != nil {
			return err
		}
	}
	d.KeysRevoked = len(keys)

	// Their assignments to firms' clients end with them, each in its firm's
	// log, before the log is rewritten to name them by their pseudonym.
	assigned, err := w.AssignmentsOf(ctx, u.ID, nil)
	if err != nil {
		return err
	}
	for _, a := range assigned {
		if err := w.UnassignClientStaff(ctx, a.Client, u.ID); err != nil {
			return err
		}
		if err := w.Record(ctx, event.ClientStaffUnassigned.In(a.Firm, a.Client.String(),
			&event.Staff{UserID: u.ID, Reason: event.ReasonStaffDeleted}, nil)); err != nil {
			return err
		}
	}

	// Addresses and names the person went by, to find and erase in the log.
	personal := []string{u.Email, u.EmailKey, u.NotificationEmail, u.FirstName, u.LastName, u.Name()}
	for _, ma := range members {
		m := ma.Member
		res, err := w.MemberResources(ctx, m.AccountID, u.ID)
		if err != nil {
			return err
		}
		before := event.MemberOf(m, res)
		if err := w.Record(ctx, event.MemberRemoved.In(m.AccountID, u.ID.String(), &before, nil)); err != nil {
			return err
		}
		personal = append(personal, m.NotificationEmail, m.FirstName, m.LastName)
	}
	d.AccountsLeft = len(members)

	// The log first: the addresses it held for the person (some they had
	// before a change) are among those whose emails go.
	addresses, err := pseudonymiseEvents(ctx, w, u.ID, d.Pseudonym, personal)
	if err != nil {
		return err
	}
	var accounts []equipe.ID
	for _, ma := range members {
		accounts = append(accounts, ma.Account.ID)
		addresses = append(addresses, ma.Member.NotificationEmail)
	}
	if err := eraseFromImports(ctx, w, d.Pseudonym, append(addresses, u.Email, u.EmailKey, u.NotificationEmail)); err != nil {
		return err
	}
	// Every client the person signed in to is told (back-channel logout),
	// whatever account its grant was for.
	if err := w.EndGrantsOf(ctx, u.ID, nil, nil, w.Now()); err != nil {
		return err
	}
	if err := w.DeleteOIDCConsentsOf(ctx, u.ID); err != nil {
		return err
	}
	forgotten, err := w.ForgetUser(ctx, u, accounts, addresses, d.Pseudonym)
	if err != nil {
		return err
	}
	d.SessionsEnded = int(forgotten.Sessions)
	if self {
		w.ActFor(event.ByUser(d.Pseudonym))
	}
	if err := w.Record(ctx, event.UserDeleted.New(nil, d.Pseudonym.String(), nil,
		&event.Deletion{SessionsEnded: d.SessionsEnded, KeysRevoked: d.KeysRevoked, AccountsLeft: d.AccountsLeft})); err != nil {
		return err
	}
	return mailPerson(ctx, w, *u, mail.TemplateIdentityDeleted, u.Email, mail.Data{RecipientName: u.Name()})
}

// pseudonymiseEvents rewrites every audit event that names the user: the
// user's ID becomes the pseudonym wherever it stands (actor, subject, a
// state's value); in the events about them (or of their identity, by them)
// every address and every name field becomes the pseudonym's label, and in
// any other event every value equal to one of their addresses does; the
// address of the requests the person made is dropped. A name alone is not
// theirs in someone else's event: "Admin" may be a last name and a role.
// It returns the login and notification addresses they held that it found
// (one they had before a change), not those they only asked for.
func pseudonymiseEvents(ctx context.Context, w *work.Unit, user, pseudonym equipe.ID, personal []string) ([]string, error) {
	addresses := map[string]bool{}
	var search []string
	for _, p := range personal {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "@") {
			continue
		}
		addresses[strings.ToLower(p)] = true
		search = append(search, p)
	}
	search = append(search, user.String())
	rows, err := w.EventsMentioning(ctx, user, search)
	if err != nil {
		return nil, err
	}
	var found []string
	label, uid, pid := PseudonymLabel(pseudonym), user.String(), pseudonym.String()
	for i := range rows {
		e := &rows[i]
		// In an event about the person, or of their own identity by them,
		// every address and name is theirs: one they had before a change
		// too.
		own := e.TargetID == uid || (e.AccountID == nil && e.ActorID != nil && *e.ActorID == user)
		replace := func(key, s string) (string, bool) {
			switch {
			case s == uid:
				return pid, true
			case own && s != "" && (personalKeys[key] || strings.Contains(s, "@")):
				if heldKeys[key] && strings.Contains(s, "@") {
					found = append(found, s)
				}
				return label, true
			case addresses[strings.ToLower(strings.TrimSpace(s))]:
				return label, true
			}
			return s, false
		}
		changed := false
		for _, st := range []*string{&e.Before, &e.After} {
			out, err := rewriteState(*st, replace)
			if err != nil {
				return nil, err
			}
			changed = changed || out != *st
			*st = out
		}
		// Most events (logins) have nothing of the person in their states:
		// only those that do are written one by one.
		if changed {
			if err := w.RewriteStates(ctx, e.ID, e.Before, e.After); err != nil {
				return nil, err
			}
		}
	}
	return found, w.RenameInEvents(ctx, user, pseudonym)
}

// eraseFromImports rewrites the rows of members' imports (the files an
// administrator imported, kept with the import) that hold one of the
// person's addresses: each such address becomes the pseudonym's label, and
// in a row that was about them (its email theirs) so do the names. A row
// still to be done then adds nobody: its email is no longer one.
func eraseFromImports(ctx context.Context, w *work.Unit, pseudonym equipe.ID, addresses []string) error {
	theirs := map[string]bool{}
	for _, a := range addresses {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			theirs[a] = true
		}
	}
	rows, err := w.ImportRowsMentioning(ctx, slices.Collect(maps.Keys(theirs)))
	if err != nil {
		return err
	}
	label := PseudonymLabel(pseudonym)
	for _, r := range rows {
		var head struct {
			Email string `json:"email"`
		}
		if err := json.Unmarshal([]byte(r.Data), &head); err != nil {
			return err
		}
		own := theirs[strings.ToLower(strings.TrimSpace(head.Email))]
		data, err := rewriteState(r.Data, func(key, s string) (string, bool) {
			switch {
			case theirs[strings.ToLower(strings.TrimSpace(s))]:
				return label, true
			case own && s != "" && personalKeys[key]:
				return label, true
			}
			return s, false
		})
		if err != nil {
			return err
		}
		if data != r.Data {
			if err := w.RewriteImportRow(ctx, r.ImportID, r.Line, data); err != nil {
				return err
			}
		}
	}
	return nil
}

// personalKeys are the names of state fields that hold a person's
// addresses and names (and their passkeys' names).
var personalKeys = map[string]bool{"email": true, "new_email": true, "notification_email": true,
	"first_name": true, "last_name": true, "name": true}

// heldKeys are the state fields whose address a person held: a login or a
// notification email, not one they asked for (new_email), which may be
// anyone's.
var heldKeys = map[string]bool{"email": true, "notification_email": true}

// rewriteState returns the JSON state s with every string value (and
// object key) that replace changes replaced; replace gets the key the value
// stands under ("" in a list or at the top).
func rewriteState(s string, replace func(key, value string) (string, bool)) (string, error) {
	if s == "" {
		return s, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s, nil // not JSON: nothing of a person's can be found in it reliably; left as is
	}
	changed := false
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch x := v.(type) {
		case string:
			if r, ok := replace(key, x); ok {
				changed = true
				return r
			}
		case []any:
			for i := range x {
				x[i] = walk(key, x[i])
			}
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, val := range x {
				nk := k
				if r, ok := replace("", k); ok {
					changed, nk = true, r
				}
				out[nk] = walk(k, val)
			}
			return out
		}
		return v
	}
	v = walk("", v)
	if !changed {
		return s, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return s, err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Person returns the user whose data by may export or delete: the person
// themself, or anyone for an instance administrator (anyone else:
// ENOTFOUND).
func (s *Service) Person(ctx context.Context, by equipe.User, userID equipe.ID) (equipe.User, error) {
	if err := mayActOn(&by, userID); err != nil {
		return equipe.User{}, err
	}
	return s.DB.UserByID(ctx, userID)
}
