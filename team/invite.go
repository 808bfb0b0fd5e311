package team

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
)

// Limits on the emails team actions send, per member and per account; they
// are documented in docs/security.md.
const (
	invitesPerMember  = 3
	invitesPerAccount = 200
	invitesPerAddress = 5
	resetsPerMember   = 3
	resetsPerAccount  = 50
	mailWindow        = time.Hour
)

// NewMember is someone an administrator adds to an account (C3).
type NewMember struct {
	Email             string
	FirstName         string
	LastName          string
	Role              string
	Overrides         []equipe.Override
	Resources         []equipe.ID
	Title             string
	NotificationEmail string
	Locale            string // the language of a new user's emails (default: the account's)
	SendInvitation    bool   // send the invitation (or activation) email now
	SendWelcome       bool   // send a welcome email (to the notification email, if any)
}

// Added is the result of adding a member.
type Added struct {
	Member equipe.Member
	User   equipe.User
	// Existing: the email already had an identity, which is reused.
	Existing bool
	// Invited: an invitation, activation or access email was sent.
	Invited bool
}

// AddMember adds someone to the account. An email that already has an
// identity reuses it — no second user, no password reset — and the member
// is shown under the names typed here until they join, unless the actor
// already shares an account with them. The role, permissions, resources and
// rules are those of ChangeMember; a person already a member answers
// ECONFLICT "member.exists" naming them.
func (s *Service) AddMember(ctx context.Context, actor Actor, account equipe.ID, in NewMember) (Added, error) {
	am, aa, err := s.authorize(ctx, actor, account, "members.manage")
	if err != nil {
		return Added{}, err
	}
	acct, err := s.DB.AccountByID(ctx, account)
	if err != nil {
		return Added{}, err
	}
	var v equipe.Invalid
	email, key, p := identity.NormalizeEmail(in.Email)
	if p != "" {
		v.Add("email", p)
	}
	first := identity.CheckName(&v, "first_name", in.FirstName)
	last := identity.CheckName(&v, "last_name", in.LastName)
	notify := ""
	if strings.TrimSpace(in.NotificationEmail) != "" {
		var p string
		if notify, _, p = identity.NormalizeEmail(in.NotificationEmail); p != "" {
			v.Add("notification_email", p)
		}
	}
	locale := in.Locale
	if locale == "" {
		locale = acct.Locale
	} else if !equipe.ValidLocale(locale) {
		v.Add("locale", "locale.invalid")
	}
	title := checkTitle(&v, in.Title)
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
	var out Added
	err = s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		// The actor's rights as they stand once every other change to the
		// account's members has committed.
		if _, err := tx.LockActiveAdmins(ctx, account); err != nil {
			return err
		}
		fresh, err := s.current(ctx, tx.Tx, actor, account, am, aa, "members.manage")
		if err != nil {
			return err
		}
		if err := s.mayGrantRole(fresh, role); err != nil {
			return err
		}
		if ok, missing := s.Catalogue.CoversOverrides(fresh, ovs); !ok {
			return forbidden("role.beyond_own", map[string]any{"missing": strings.Join(missing, ", ")})
		}
		if ok, _ := fresh.CoversResources(in.Resources); !ok {
			return forbidden("member.resource_beyond_own", nil)
		}
		all, err := tx.Resources(ctx, account)
		if err != nil {
			return err
		}
		if missing := s.Catalogue.MissingRequired(all, in.Resources); len(missing) > 0 {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.required_resource",
				Args: map[string]any{"types": strings.Join(missing, ", ")}}
		}
		now := tx.Now()
		u, err := tx.UserByEmailKey(ctx, key)
		m := equipe.Member{AccountID: account, UserID: u.ID, Role: role.Key, Status: equipe.MemberCreated, Title: title,
			Overrides: in.Overrides, NotificationEmail: notify, CreatedAt: now, InvitedBy: actor.actorID()}
		switch equipe.ErrorCode(err) {
		case "":
			out.Existing = true
			if _, err := tx.Member(ctx, account, u.ID); err == nil {
				return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.exists", Args: map[string]any{"user_id": u.ID.String()}}
			}
			shared := false
			if actor.User != nil {
				if shared, err = tx.SharesAccount(ctx, actor.User.ID, u.ID); err != nil {
					return err
				}
			}
			if !shared {
				m.FirstName, m.LastName = first, last
			}
		case equipe.ENOTFOUND:
			u = equipe.User{ID: equipe.NewUserID(), Email: email, EmailKey: key, FirstName: first, LastName: last,
				Locale: locale, CreatedAt: now}
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			m.UserID = u.ID
		default:
			return err
		}
		if err := tx.CreateMember(ctx, &m); err != nil {
			return err
		}
		if len(in.Resources) > 0 {
			if err := tx.SetMemberResources(ctx, account, u.ID, in.Resources); err != nil {
				return err
			}
		}
		if err := s.auditTx(ctx, tx, actor, account, "member.added", u.ID, nil, map[string]any{"email": u.Email,
			"role": m.Role, "title": m.Title, "resources": len(in.Resources)}); err != nil {
			return err
		}
		if in.SendInvitation || in.SendWelcome {
			// Emails sent on adding count as invitations: removing and adding
			// again is no way around the limits.
			if err := s.throttle(ctx, tx, "invite", account, u.ID, invitesPerMember, invitesPerAccount); err != nil {
				return err
			}
		}
		if in.SendInvitation {
			if err := s.invite(ctx, tx, actor, acct, &m, u, false); err != nil {
				return err
			}
			out.Invited = true
		}
		if in.SendWelcome {
			to, toKey := u.Email, u.EmailKey
			if notify != "" {
				to, toKey = notify, identity.EmailKey(notify)
			}
			if err := limitRecipient(ctx, tx, toKey); err != nil {
				return err
			}
			if err := tx.Mail(ctx, mail.TemplateWelcome, orDefault(u.Locale, acct.Locale), to, mail.Data{
				RecipientName: displayName(m, u), AccountName: acct.Name, InviterName: actor.name(acct)}); err != nil {
				return err
			}
		}
		out.Member, out.User = m, u
		return nil
	})
	return out, err
}

// Invite sends the member an invitation — or, when the account activates
// its members, the activation email; to someone who already has a password,
// the email saying they were given access — or sends it again (a reminder:
// the previous link stops working). Sending is throttled per member and per
// account. A member who joined answers ECONFLICT "invitation.already_joined".
func (s *Service) Invite(ctx context.Context, actor Actor, account, user equipe.ID) (equipe.Member, error) {
	var m equipe.Member
	err := s.onMember(ctx, actor, account, user, resendsInvitation, func(tx *identity.Tx, acct equipe.Account, target *equipe.Member, u equipe.User) error {
		switch target.Status {
		case equipe.MemberActive:
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.already_joined"}
		case equipe.MemberSuspended:
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.member_suspended"}
		}
		if err := s.throttle(ctx, tx, "invite", account, user, invitesPerMember, invitesPerAccount); err != nil {
			return err
		}
		if err := s.invite(ctx, tx, actor, acct, target, u, target.InvitationsSent > 0); err != nil {
			return err
		}
		m = *target
		return nil
	})
	return m, err
}

// RevokeInvitation makes the member's pending invitation link unusable; the
// member is back to created (they can be invited again later).
func (s *Service) RevokeInvitation(ctx context.Context, actor Actor, account, user equipe.ID) error {
	return s.onMember(ctx, actor, account, user, changesMember, func(tx *identity.Tx, acct equipe.Account, target *equipe.Member, u equipe.User) error {
		if target.Status != equipe.MemberInvited {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "invitation.none_pending"}
		}
		if err := tx.SupersedeAccountTokens(ctx, user, account, equipe.TokenInvitation, tx.Now()); err != nil {
			return err
		}
		before := *target
		target.Status = equipe.MemberCreated
		if err := tx.UpdateMember(ctx, target); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, actor, account, "invitation.revoked", user, memberState(before), memberState(*target))
	})
}

// Reset is the result of an administrator's password reset.
type Reset struct {
	// InvitationResent: the member never accepted; the invitation was sent
	// again instead of a reset link.
	InvitationResent bool
}

// AdminReset sends the member a password-reset link at their login email
// (the administrator never sets or sees a password). For a member who never
// accepted their invitation, it sends the invitation again instead and says
// so. Throttled per member and per account.
func (s *Service) AdminReset(ctx context.Context, actor Actor, account, user equipe.ID) (Reset, error) {
	var out Reset
	err := s.onMember(ctx, actor, account, user, changesMember, func(tx *identity.Tx, acct equipe.Account, target *equipe.Member, u equipe.User) error {
		if target.Status == equipe.MemberSuspended {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.suspended"}
		}
		if err := s.throttle(ctx, tx, "reset", account, user, resetsPerMember, resetsPerAccount); err != nil {
			return err
		}
		if target.Status != equipe.MemberActive || u.PasswordHash == "" {
			// What goes out is an invitation: it counts as one too.
			if err := s.throttle(ctx, tx, "invite", account, user, invitesPerMember, invitesPerAccount); err != nil {
				return err
			}
			out.InvitationResent = true
			return s.invite(ctx, tx, actor, acct, target, u, true)
		}
		link, expires, err := tx.NewToken(ctx, equipe.TokenReset, &u, nil, s.Identity.Config.ResetTTL, "/password-reset/")
		if err != nil {
			return err
		}
		if err := tx.Mail(ctx, mail.TemplateAdminReset, orDefault(u.Locale, acct.Locale), u.Email, mail.Data{
			RecipientName: u.Name(), AccountName: acct.Name, InviterName: actor.name(acct), Link: link, Expires: expires}); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, actor, account, "member.password_reset_sent", user, nil, nil)
	})
	return out, err
}

// RemoveMember takes the user out of the account. Their identity and other
// accounts stay; their pending links to this account stop working; their
// access ends on their next request. The account keeps an active
// administrator.
func (s *Service) RemoveMember(ctx context.Context, actor Actor, account, user equipe.ID) error {
	return s.onMember(ctx, actor, account, user, endsMembership, func(tx *identity.Tx, acct equipe.Account, target *equipe.Member, u equipe.User) error {
		if err := tx.SupersedeAccountTokens(ctx, user, account, equipe.TokenInvitation, tx.Now()); err != nil {
			return err
		}
		if err := tx.DeleteMember(ctx, account, user); err != nil {
			return err
		}
		// A firm member leaves their client assignments with the firm.
		if err := tx.UnassignStaffOfFirm(ctx, account, user); err != nil {
			return err
		}
		return s.auditTx(ctx, tx, actor, account, "member.removed", user, memberState(*target), nil)
	})
}

// memberAction says what an action on a member does, for the checks that
// depend on it.
type memberAction int

const (
	// changesMember: the shared checks only.
	changesMember memberAction = iota
	// endsMembership: the member may not be the account's last active
	// administrator.
	endsMembership
	// resendsInvitation: sending again an invitation already sent and not
	// yet accepted is allowed whoever the member is (the partner who created
	// an account for a business, a Manager there, re-sends its owner's
	// invitation, seed 000): the link goes to the member's own address and
	// grants nothing they were not already given.
	resendsInvitation
)

// onMember runs fn on a member of the account in one transaction, after the
// checks every action on a member shares: the actor needs members.manage and
// may act only on a member who holds nothing the actor does not (an
// administrator may act on anyone), with the exceptions what allows.
func (s *Service) onMember(ctx context.Context, actor Actor, account, user equipe.ID, what memberAction,
	fn func(tx *identity.Tx, acct equipe.Account, target *equipe.Member, u equipe.User) error) error {
	am, aa, err := s.authorize(ctx, actor, account, "members.manage")
	if err != nil {
		return err
	}
	return s.Identity.Write(ctx, identity.Origin{IP: actor.IP}, func(tx *identity.Tx) error {
		admins, err := tx.LockActiveAdmins(ctx, account)
		if err != nil {
			return err
		}
		am, err := s.current(ctx, tx.Tx, actor, account, am, aa, "members.manage")
		if err != nil {
			return err
		}
		target, err := tx.LockMember(ctx, account, user)
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return notFound()
		} else if err != nil {
			return err
		}
		resend := what == resendsInvitation && target.Status == equipe.MemberInvited && target.JoinedAt.IsZero() && target.InvitationsSent > 0
		if !isAdmin(am) && !resend {
			resources, err := tx.MemberResources(ctx, account, user)
			if err != nil {
				return err
			}
			current, err := s.compileFrom(ctx, tx.Tx, target, resources)
			if err != nil {
				return err
			}
			if ok, missing := s.Catalogue.CoversMember(am, current); !ok {
				return forbidden("member.outranks", map[string]any{"missing": strings.Join(missing, ", ")})
			}
		}
		if what == endsMembership && target.Role == equipe.RoleAdmin && target.Status == equipe.MemberActive && len(admins) <= 1 {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "member.last_admin"}
		}
		acct, err := tx.AccountByID(ctx, account)
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, user)
		if err != nil {
			return err
		}
		return fn(tx, acct, &target, u)
	})
}

// invite sends the invitation-family email to the member and records it:
// the activation email when the account activates its members, the access
// email to someone who already has a password, the invitation (or its
// reminder) otherwise.
func (s *Service) invite(ctx context.Context, tx *identity.Tx, actor Actor, acct equipe.Account, m *equipe.Member, u equipe.User, again bool) error {
	template := mail.TemplateInvitation
	switch {
	case acct.RequiresActivation:
		template = mail.TemplateActivation
	case u.PasswordHash != "":
		template = mail.TemplateAccessGranted
	case again:
		template = mail.TemplateReinvitation
	}
	return s.sendInvitation(ctx, tx, actor, acct, m, u, template, "", again)
}

// sendInvitation makes a new invitation link for the member (the previous
// one stops working), sends it with template and an optional personal
// message, and records it.
func (s *Service) sendInvitation(ctx context.Context, tx *identity.Tx, actor Actor, acct equipe.Account, m *equipe.Member, u equipe.User, template, message string, again bool) error {
	if err := limitRecipient(ctx, tx, u.EmailKey); err != nil {
		return err
	}
	link, expires, err := tx.NewToken(ctx, equipe.TokenInvitation, &u, &acct.ID, identity.InvitationTTL(acct), "/invitations/")
	if err != nil {
		return err
	}
	if err := tx.Mail(ctx, template, orDefault(u.Locale, acct.Locale), u.Email, mail.Data{RecipientName: displayName(*m, u),
		AccountName: acct.Name, InviterName: actor.name(acct), Link: link, Expires: expires, Message: message,
		HasPassword: u.PasswordHash != ""}); err != nil {
		return err
	}
	if err := tx.RecordInvitation(ctx, acct.ID, u.ID, tx.Now(), actor.actorID()); err != nil {
		return err
	}
	before := *m
	if m.Status == equipe.MemberCreated {
		m.Status = equipe.MemberInvited
	}
	m.InvitationsSent++
	m.LastInvitedAt = tx.Now()
	action := "invitation.sent"
	if again {
		action = "invitation.resent"
	}
	// The audit names the kind of email, not its variant: which variant went
	// out (access granted, for someone who already has a password) would
	// tell the account that the address has an identity elsewhere.
	kind := mail.TemplateInvitation
	switch {
	case template == mail.TemplateActivation:
		kind = mail.TemplateActivation
	case again:
		kind = mail.TemplateReinvitation
	}
	return s.auditTx(ctx, tx, actor, acct.ID, action, u.ID, memberState(before),
		map[string]any{"status": m.Status, "template": kind, "invitations_sent": m.InvitationsSent, "expires_at": expires})
}

// throttle counts an email-sending action per member and per account.
func (s *Service) throttle(ctx context.Context, tx *identity.Tx, what string, account, user equipe.ID, perMember, perAccount int) error {
	if err := limit(ctx, tx, what, what+":member:"+account.String()+":"+user.String(), perMember); err != nil {
		return err
	}
	return limit(ctx, tx, what, what+":account:"+account.String(), perAccount)
}

// limitRecipient counts one more team email (invitation, welcome) to an
// address, whichever account sends it: however many accounts or members
// someone makes, one address receives at most invitesPerAddress an hour.
func limitRecipient(ctx context.Context, tx *identity.Tx, emailKey string) error {
	return limit(ctx, tx, "invite", "invite:to:"+emailKey, invitesPerAddress)
}

// limit counts one more of what under key, free times an hour; beyond, it
// answers ERATELIMITED "<what>.throttled" with how long to wait.
func limit(ctx context.Context, tx *identity.Tx, what, key string, free int) error {
	ok, wait, err := tx.Hit(ctx, key, free, mailWindow)
	if err != nil {
		return err
	}
	if !ok {
		e := identity.Throttled(wait).(*equipe.Error)
		e.Key = what + ".throttled"
		return e
	}
	return nil
}

// auditTx records a team event in an identity transaction.
func (s *Service) auditTx(ctx context.Context, tx *identity.Tx, actor Actor, account equipe.ID, action string, target equipe.ID, before, after any) error {
	if actor.Key != nil {
		m, _ := after.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m["api_key"] = actor.Key.ID.String()
		after = m
	}
	return tx.Audit(ctx, &account, actor.actorID(), action, "user", target.String(), before, after)
}

// name is how emails name the actor: the person, or the account for a key.
func (a Actor) name(acct equipe.Account) string {
	if a.User != nil {
		return a.User.Name()
	}
	return acct.Name
}

// displayName is how an account shows a member: the names they were added
// under until they join, else their identity's.
func displayName(m equipe.Member, u equipe.User) string {
	if m.JoinedAt.IsZero() && (m.FirstName != "" || m.LastName != "") {
		return strings.TrimSpace(m.FirstName + " " + m.LastName)
	}
	return u.Name()
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
