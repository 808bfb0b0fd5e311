package team

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Limits on what team actions do, per member, per account and per address;
// they are documented in docs/security.md.
const (
	invitesPerMember  = 3
	invitesPerAccount = 200
	invitesPerAddress = 5
	resetsPerMember   = 3
	resetsPerAccount  = 50
	mailWindow        = time.Hour
	// addsPerAccount bounds the members an account adds in an hour, whether
	// or not an email goes out: adding is no way to spray identities.
	addsPerAccount = 500
	// clientsPerHour bounds the client accounts a firm creates in an hour,
	// with an owner or without: each is an account, a resource and an
	// event, however little it sends.
	clientsPerHour = 100
)

// NewMember is someone an administrator adds to an account. Only Email
// and Role are required: names left empty are asked of the person when
// they accept.
type NewMember struct {
	Email             string
	FirstName         string // optional
	LastName          string // optional
	Role              string
	Overrides         []equipe.Override
	Resources         []equipe.ID
	Title             string
	NotificationEmail string
	Locale            string // the language of their emails until they join, unless their identity has one (default: the account's)
	SendInvitation    bool   // send the invitation (or activation) email now
	SendWelcome       bool   // send a welcome email (to the notification email, if any)
	// Clients, in a firm, are the client accounts to assign the new member
	// to (seed 001's "assign the companies of your choice"), as AssignStaff
	// does, in the same unit of work.
	Clients []equipe.ID
	// ExternalID is the vendor's identifier of the member in the account
	// (nil: none; unique in the account). One given is 1 to 255 printable
	// characters: "" is refused with external_id.invalid, as a change that
	// sets one refuses it (a new member has no identifier to clear).
	ExternalID *string
	// Suspended adds the member suspended (a directory provisioning someone
	// inactive); no email goes out to them then.
	Suspended bool
}

// Added is the result of adding a member.
type Added struct {
	Member equipe.Member
	User   equipe.User
	// Invited: an invitation, activation or access email was sent.
	Invited bool
	// Welcomed: the welcome email was sent.
	Welcomed bool
}

// AddMember adds someone to the account. An email that already has an
// identity reuses it — no second user, no password reset. What the account
// types about the person (names, language, job title) stays on the
// membership: it is how the account shows them until they join, and it
// never becomes their identity's, whose names the account sees only once
// they share an account. The role, permissions, resources and rules are
// those of ChangeMember; a person already a member answers ECONFLICT
// "member.exists" naming them. Adding is throttled per account, emails or
// not.
func (s *Service) AddMember(ctx context.Context, actor Actor, account equipe.ID, in NewMember) (Added, error) {
	am, aa, err := s.authorize(ctx, actor, account, "members.manage")
	if err != nil {
		return Added{}, err
	}
	acct, err := s.accountIn(ctx, s.DB.Queries, account)
	if err != nil {
		return Added{}, err
	}
	var v equipe.Invalid
	email, key, p := identity.NormalizeEmail(in.Email)
	if p != "" {
		v.Add("email", p)
	}
	// Only the address is needed: someone added without a name is asked
	// for it when they accept (seed 004's "enter the user's email").
	first := optionalName(&v, "first_name", in.FirstName)
	last := optionalName(&v, "last_name", in.LastName)
	notify := ""
	if strings.TrimSpace(in.NotificationEmail) != "" {
		var p string
		if notify, _, p = identity.NormalizeEmail(in.NotificationEmail); p != "" {
			v.Add("notification_email", p)
		}
	}
	if in.Locale != "" && !equipe.ValidLocale(in.Locale) {
		v.Add("locale", "locale.invalid")
	}
	title := checkTitle(&v, in.Title)
	ext := ""
	if in.ExternalID != nil {
		ext = *in.ExternalID
		checkPersonExternalID(&v, "external_id", ext)
	}
	if in.Suspended && (in.SendInvitation || in.SendWelcome) {
		v.Add("send_invitation", "member.suspended_no_email")
	}
	role, found, err := s.resolveRole(ctx, s.DB.Queries, account, in.Role)
	if err != nil {
		return Added{}, err
	}
	if !found {
		v.Add("role", "role.unknown")
	}
	ovs := s.checkOverrides(&v, in.Overrides)
	if found && role.Key == equipe.RoleAdmin && len(in.Overrides) > 0 {
		// An administrator holds every permission: overrides do not apply.
		v.Add("overrides", "member.admin_overrides")
	}
	if err := v.Err(); err != nil {
		return Added{}, err
	}
	in.Clients = uniqueIDs(in.Clients)
	if err := s.reachClients(ctx, actor, account, in.Clients); err != nil {
		return Added{}, err
	}
	var out Added
	err = s.do(ctx, actor, func(u *work.Unit) error {
		// The actor's rights as they stand once every other change to the
		// account's members has committed.
		if err := s.lockAdmins(ctx, u, account); err != nil {
			return err
		}
		fresh, err := s.currentIn(ctx, u, actor, account, am, aa, "members.manage")
		if err != nil {
			return err
		}
		if err := s.mayGrantRole(fresh, role); err != nil {
			return err
		}
		if ok, missing := s.Catalogue.CoversOverrides(fresh, ovs); !ok {
			return s.missingRefusal("role.beyond_own", missing)
		}
		if ok, _ := fresh.CoversResources(in.Resources); !ok {
			return forbidden("member.resource_beyond_own", nil)
		}
		all, err := s.resourcesIn(ctx, u, account)
		if err != nil {
			return err
		}
		if err := newlyArchived(all, in.Resources, nil); err != nil {
			return err
		}
		if missing := s.Catalogue.MissingRequired(activeResources(all), in.Resources); len(missing) > 0 {
			return conflict("member.required_resource", map[string]any{"types": strings.Join(missing, ", ")})
		}
		if !isImporting(ctx) {
			if err := u.Limit(ctx, "add:account:"+account.String(), s.AddsPerHour, mailWindow, "member.add_throttled"); err != nil {
				return err
			}
		}
		now := u.Now()
		usr, err := s.userByEmailKey(ctx, u.Tx.Queries, key)
		status := equipe.MemberCreated
		if in.Suspended {
			status = equipe.MemberSuspended
		}
		m := equipe.Member{AccountID: account, Role: role.Key, Status: status, Title: title,
			Overrides: in.Overrides, NotificationEmail: notify, FirstName: first, LastName: last, Locale: in.Locale,
			CreatedAt: now, InvitedBy: actor.userID(), ExternalID: ext}
		switch equipe.ErrorCode(err) {
		case "":
			if _, err := u.Member(ctx, account, usr.ID); err == nil {
				return conflict("member.exists", map[string]any{"user_id": usr.ID.String()})
			}
			if m.FirstName, m.LastName, err = namesUntilJoined(ctx, u, actor, usr, first, last); err != nil {
				return err
			}
		case equipe.ENOTFOUND:
			// A new identity holds nothing but the address until its owner
			// sets a password: whatever the account typed is the account's.
			usr = equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: key, CreatedAt: now}
			if err := u.CreateUser(ctx, &usr); err != nil {
				return err
			}
		default:
			return err
		}
		m.UserID = usr.ID
		if err := u.CreateMemberOf(ctx, &m, usr); err != nil {
			return err
		}
		if len(in.Resources) > 0 {
			if err := u.AssignNewMember(ctx, account, usr.ID, in.Resources); err != nil {
				return err
			}
		}
		rememberResources(ctx, usr.ID, in.Resources)
		if err := u.Record(ctx, event.MemberAdded.In(account, usr.ID.String(), nil, &event.Added{Email: usr.Email,
			Role: m.Role, Status: m.Status, Title: m.Title, Resources: orEmpty(in.Resources), Overrides: m.Overrides,
			ExternalID: m.ExternalID})); err != nil {
			return err
		}
		if err := s.setStaffClients(ctx, u, account, usr.ID, nil, in.Clients); err != nil {
			return err
		}
		if in.SendInvitation || in.SendWelcome {
			// Emails sent on adding count as invitations: removing and adding
			// again is no way around the limits.
			if err := s.throttle(ctx, u, "invite", account, usr.ID, invitesPerMember, invitesPerAccount); err != nil {
				return err
			}
		}
		if in.SendInvitation {
			if err := s.invite(ctx, u, actor, acct, &m, usr, false); err != nil {
				return err
			}
			out.Invited = true
		}
		if in.SendWelcome {
			to, toKey := usr.Email, usr.EmailKey
			if notify != "" {
				to, toKey = notify, identity.EmailKey(notify)
			}
			if err := limitRecipient(ctx, u, toKey); err != nil {
				return err
			}
			name := greeting(m, usr)
			if err := u.Mail(ctx, mail.TemplateWelcome, memberLocale(m, usr, acct), to, mail.Data{
				RecipientName: name, RecipientID: usr.ID, AccountName: acct.Name, InviterName: actor.name(acct),
				InviterID: actor.personID(), HasPassword: usr.PasswordHash != "", WithInvitation: in.SendInvitation}); err != nil {
				return err
			}
			out.Welcomed = true
		}
		if !isImporting(ctx) {
			// An import tells its actor once, on its page, not per member.
			if err := s.confirmToAdder(ctx, u, actor, acct, m, usr); err != nil {
				return err
			}
		}
		out.Member, out.User = m, usr
		return nil
	})
	return out, err
}

// confirmToAdder tells the person who added a member that the member's
// access was created (seed 002: "you will also receive an automatic email
// confirming that your colleague's account was created"), when the account's
// notify_adder setting says so, at their notification email for the account
// if they set one, else at their own confirmed one. An API key is nobody to
// tell.
func (s *Service) confirmToAdder(ctx context.Context, u *work.Unit, actor Actor, acct equipe.Account, m equipe.Member, usr equipe.User) error {
	if !acct.NotifyAdder.OnCreation() || actor.userID() == nil {
		return nil
	}
	adder := *actor.User
	to := identity.NotifyAddress(adder)
	if am, err := u.Member(ctx, acct.ID, adder.ID); err == nil && am.NotificationEmail != "" {
		to = am.NotificationEmail
	} else if err != nil && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return err
	}
	return u.Mail(ctx, mail.TemplateAdderConfirmation, orDefault(adder.Locale, acct.Locale), to, mail.Data{
		RecipientName: displayName(m, usr), RecipientID: usr.ID, InviterName: adder.Name(), InviterID: adder.ID,
		AccountName: acct.Name, Link: s.Work.Link("/accounts/" + acct.ID.String() + "/members")})
}

// Invite sends the member an invitation — or, when the account activates
// its members, the activation email; to someone who already has a password,
// the email saying they were given access — or sends it again (a reminder:
// the previous link stops working). Sending is throttled per member and per
// account. A member who joined answers ECONFLICT "invitation.already_joined".
func (s *Service) Invite(ctx context.Context, actor Actor, account, user equipe.ID) (equipe.Member, error) {
	var m equipe.Member
	err := s.actOnMember(ctx, actor, account, user, MemberInvite, func(u *work.Unit, mw *memberWork) error {
		if err := s.throttle(ctx, u, "invite", account, user, invitesPerMember, invitesPerAccount); err != nil {
			return err
		}
		if err := s.invite(ctx, u, actor, mw.acct, &mw.member, mw.user, mw.member.InvitationsSent > 0); err != nil {
			return err
		}
		m = mw.member
		return nil
	})
	return m, err
}

// RevokeInvitation makes the member's pending invitation link unusable; the
// member is back to created (they can be invited again later).
func (s *Service) RevokeInvitation(ctx context.Context, actor Actor, account, user equipe.ID) error {
	return s.actOnMember(ctx, actor, account, user, MemberRevoke, func(u *work.Unit, mw *memberWork) error {
		if err := u.SupersedeAccountTokens(ctx, user, account, equipe.TokenInvitation, u.Now()); err != nil {
			return err
		}
		before := mw.state()
		was := mw.member
		mw.member.Status = equipe.MemberCreated
		mw.member.Touch(was, u.Now())
		if err := u.UpdateMember(ctx, &mw.member); err != nil {
			return err
		}
		after := mw.state()
		return u.Record(ctx, event.InvitationRevoked.In(account, user.String(), &before, &after))
	})
}

// Reset is the result of an administrator's password reset.
type Reset struct {
	// Invited: the member never accepted; their invitation went out instead
	// of a reset link (as a reminder when one had gone out before).
	Invited bool
}

// AdminReset sends the member a password-reset link at their login email
// (the administrator never sets or sees a password). For a member who never
// accepted their invitation, it sends the invitation again instead and says
// so. Throttled per member and per account.
func (s *Service) AdminReset(ctx context.Context, actor Actor, account, user equipe.ID) (Reset, error) {
	var out Reset
	err := s.actOnMember(ctx, actor, account, user, MemberReset, func(u *work.Unit, mw *memberWork) error {
		if err := s.throttle(ctx, u, "reset", account, user, resetsPerMember, resetsPerAccount); err != nil {
			return err
		}
		if mw.member.Status != equipe.MemberActive || mw.user.PasswordHash == "" {
			// What goes out is an invitation: it counts as one too.
			if err := s.throttle(ctx, u, "invite", account, user, invitesPerMember, invitesPerAccount); err != nil {
				return err
			}
			out.Invited = true
			return s.invite(ctx, u, actor, mw.acct, &mw.member, mw.user, mw.member.InvitationsSent > 0)
		}
		link, expires, err := u.NewToken(ctx, equipe.TokenReset, &mw.user, nil, s.LinkValidity(mail.TemplateAdminReset), "/password-reset/")
		if err != nil {
			return err
		}
		// The email names the account and the person who asked (a key is
		// no person: the email then speaks of the account's administrators).
		if err := u.Mail(ctx, mail.TemplateAdminReset, memberLocale(mw.member, mw.user, mw.acct), mw.user.Email, mail.Data{
			RecipientName: mw.user.Name(), RecipientID: mw.user.ID, AccountName: mw.acct.Name, InviterName: actor.personName(),
			InviterID: actor.personID(), Link: link,
			Expires: expires}); err != nil {
			return err
		}
		return u.Record(ctx, event.MemberPasswordResetSent.In(account, user.String(), nil, nil))
	})
	return out, err
}

// RemoveMember takes the user out of the account. Their identity and other
// accounts stay; their pending links to this account stop working; their
// access ends on their next request, and so do the API keys they made there
// (and, for a firm's member, in the firm's clients), which are revoked: they
// stay revoked if the person comes back. The account keeps an active
// administrator.
func (s *Service) RemoveMember(ctx context.Context, actor Actor, account, user equipe.ID) error {
	return s.actOnMember(ctx, actor, account, user, MemberRemove, func(u *work.Unit, mw *memberWork) error {
		if err := u.SupersedeAccountTokens(ctx, user, account, equipe.TokenInvitation, u.Now()); err != nil {
			return err
		}
		if err := u.DeleteMember(ctx, account, user); err != nil {
			return err
		}
		if err := s.revokeKeysOf(ctx, u, account, user, event.ReasonCreatorRemoved); err != nil {
			return err
		}
		// A firm member leaves their client assignments, and the keys they
		// made in the clients, with the firm.
		clients, _, err := u.Clients(ctx, account, nil, equipe.Page{})
		if err != nil {
			return err
		}
		for _, c := range clients {
			if err := s.revokeKeysOf(ctx, u, c.Account.ID, user, event.ReasonCreatorRemoved); err != nil {
				return err
			}
		}
		// Each assignment ends with its own event, saying why.
		assigned, err := u.AssignmentsOf(ctx, user, &account)
		if err != nil {
			return err
		}
		for _, a := range assigned {
			if err := s.unassignStaff(ctx, u, account, a.Client, user, event.ReasonStaffRemoved); err != nil {
				return err
			}
		}
		before := mw.state()
		return u.Record(ctx, event.MemberRemoved.In(account, user.String(), &before, nil))
	})
}

// invite sends the invitation-family email to the member and records it:
// the activation email when the account activates its members, the access
// email to someone who already has a password, the invitation (or its
// reminder) otherwise.
func (s *Service) invite(ctx context.Context, u *work.Unit, actor Actor, acct equipe.Account, m *equipe.Member, usr equipe.User, again bool) error {
	template := mail.TemplateInvitation
	switch {
	case acct.RequiresActivation:
		template = mail.TemplateActivation
	case usr.PasswordHash != "":
		template = mail.TemplateAccessGranted
	case again:
		template = mail.TemplateReinvitation
	}
	return s.sendInvitation(ctx, u, actor, acct, m, usr, template, "", again)
}

// sendInvitation makes a new invitation link for the member (the previous
// one stops working), sends it with template and an optional personal
// message, and records it.
func (s *Service) sendInvitation(ctx context.Context, u *work.Unit, actor Actor, acct equipe.Account, m *equipe.Member, usr equipe.User, template, message string, again bool) error {
	if err := limitRecipient(ctx, u, usr.EmailKey); err != nil {
		return err
	}
	link, expires, err := u.NewToken(ctx, equipe.TokenInvitation, &usr, &acct.ID, identity.InvitationTTL(acct), "/invitations/")
	if err != nil {
		return err
	}
	if err := u.Mail(ctx, template, memberLocale(*m, usr, acct), usr.Email, mail.Data{RecipientName: greeting(*m, usr), RecipientID: usr.ID,
		AccountName: acct.Name, InviterName: actor.name(acct), InviterID: actor.personID(), Link: link, Expires: expires, Message: message,
		HasPassword: usr.PasswordHash != ""}); err != nil {
		return err
	}
	if err := u.RecordInvitation(ctx, acct.ID, usr.ID, u.Now(), actor.userID()); err != nil {
		return err
	}
	resources, err := memberResourcesIn(ctx, u, acct.ID, usr.ID)
	if err != nil {
		return err
	}
	before := event.MemberOf(*m, resources)
	if m.Status == equipe.MemberCreated {
		m.Status = equipe.MemberInvited
	}
	m.InvitationsSent++
	m.LastInvitedAt = u.Now()
	kind, sent := event.InvitationSent, event.TemplateInvitation
	if again {
		kind, sent = event.InvitationResent, event.TemplateReinvitation
	}
	if template == mail.TemplateActivation {
		sent = event.TemplateActivation
	}
	return u.Record(ctx, kind.In(acct.ID, usr.ID.String(), &before, &event.Invitation{Status: m.Status, Template: sent,
		InvitationsSent: m.InvitationsSent, ExpiresAt: expires}))
}

// throttle counts an email-sending action per member and per account.
func (s *Service) throttle(ctx context.Context, u *work.Unit, what string, account, user equipe.ID, perMember, perAccount int) error {
	byMember, byAccount := throttleKeys(what, account, user)
	if err := u.Limit(ctx, byMember, perMember, mailWindow, what+".throttled"); err != nil {
		return err
	}
	if isImporting(ctx) {
		// An import is limited as a whole (StartImport); its invitations
		// wait in the outbox, which sends them at its pace.
		return nil
	}
	return u.Limit(ctx, byAccount, perAccount, mailWindow, what+".throttled")
}

// throttleKeys returns the keys of the throttles that an email-sending
// action ("invite", "reset") on the member counts against.
func throttleKeys(what string, account, user equipe.ID) (byMember, byAccount string) {
	return what + ":member:" + account.String() + ":" + user.String(), what + ":account:" + account.String()
}

// throttleLimits returns how many of the action a member and an account
// may have a window.
func throttleLimits(what string) (perMember, perAccount int) {
	if what == "reset" {
		return resetsPerMember, resetsPerAccount
	}
	return invitesPerMember, invitesPerAccount
}

// throttledAt answers, from where the throttles stand (ws), whether the
// action on the member would be refused by them at now: the refusal, with
// when the action is possible again, or nil. It says in advance what
// throttle will answer when the action is taken.
func throttledAt(ws map[string]store.HitWindow, what string, account, user equipe.ID, now time.Time) *equipe.Error {
	byMember, byAccount := throttleKeys(what, account, user)
	perMember, perAccount := throttleLimits(what)
	until := ws[byMember].BlockedUntil(now, mailWindow, perMember)
	if a := ws[byAccount].BlockedUntil(now, mailWindow, perAccount); a.After(until) {
		until = a
	}
	if until.IsZero() {
		return nil
	}
	return &equipe.Error{Code: equipe.ERATELIMITED, Key: what + ".throttled", RetryAfter: until.Sub(now), Until: until}
}

// limitRecipient counts one more team email (invitation, welcome) to an
// address, whichever account sends it: however many accounts or members
// someone makes, one address receives at most invitesPerAddress an hour.
func limitRecipient(ctx context.Context, u *work.Unit, emailKey string) error {
	return u.Limit(ctx, "invite:to:"+emailKey, invitesPerAddress, mailWindow, "invite.throttled")
}

// namesUntilJoined are the names an account shows a member whose identity
// usr exists, until they join: the identity's own when the actor already
// sees them in an account they share, else only what the actor typed (none:
// the address), so that an address reveals nobody's name to an account
// they have not joined.
func namesUntilJoined(ctx context.Context, u *work.Unit, actor Actor, usr equipe.User, first, last string) (string, string, error) {
	if actor.User == nil {
		return first, last, nil
	}
	shared, err := u.SharesAccount(ctx, actor.User.ID, usr.ID)
	if err != nil || !shared {
		return first, last, err
	}
	return usr.FirstName, usr.LastName, nil
}

// greeting is how an email to the member names them: by their own names
// when their identity has them (nobody learns anything from being greeted
// by their own name), else by those the account added them under, else by
// their address.
func greeting(m equipe.Member, u equipe.User) string {
	if n := u.Name(); n != "" {
		return n
	}
	return displayName(m, u)
}

// displayName is how an account names a member in its emails to others:
// the names it shows them under, else their email.
func displayName(m equipe.Member, u equipe.User) string {
	first, last := m.ShownNames(u)
	if n := (&equipe.User{FirstName: first, LastName: last}).Name(); n != "" {
		return n
	}
	return u.Email
}

// memberLocale is the language of an account's emails to its member: their
// own, once they chose one; else the one the account chose when it added
// them; else the account's.
func memberLocale(m equipe.Member, u equipe.User, acct equipe.Account) string {
	return orDefault(u.Locale, orDefault(m.Locale, acct.Locale))
}

// optionalName checks a name that may be left empty.
func optionalName(v *equipe.Invalid, field, value string) string {
	if strings.TrimSpace(value) == "" {
		return ""
	}
	return identity.CheckName(v, field, value)
}

func checkTitle(v *equipe.Invalid, title string) string {
	t := strings.TrimSpace(title)
	if utf8.RuneCountInString(t) > 100 || strings.ContainsAny(t, "<>") || strings.ContainsFunc(t, unicode.IsControl) {
		v.Add("title", "member.title_invalid")
	}
	return t
}

// checkOverrides validates overrides written by a person.
func (s *Service) checkOverrides(v *equipe.Invalid, os []equipe.Override) []access.Override {
	ovs := overrides(os)
	for _, o := range os {
		if _, ok := access.ParseScope(o.Scope); o.Scope != "" && !ok {
			v.Add("overrides."+o.Permission, "role.scope_unknown")
		}
	}
	if err := s.Catalogue.ValidateOverrides(ovs); err != nil {
		addGrantError(v, "overrides", err)
	}
	return ovs
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// uniqueIDs returns ids without repeats, in their order.
func uniqueIDs(ids []equipe.ID) []equipe.ID {
	var out []equipe.ID
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// orEmpty returns ids, or an empty list for none.
func orEmpty(ids []equipe.ID) []equipe.ID {
	if ids == nil {
		return []equipe.ID{}
	}
	return ids
}
