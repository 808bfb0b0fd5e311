package team

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// MemberSummary is one member of an account as a short list shows them.
type MemberSummary struct {
	UserID    equipe.ID
	FirstName string
	LastName  string
	Email     string
	Role      string
	Status    equipe.MemberStatus
	Disabled  bool // the user is disabled in every account
}

// Name returns the member's full name, or their email when they have none.
func (m MemberSummary) Name() string {
	u := equipe.User{FirstName: m.FirstName, LastName: m.LastName}
	if n := u.Name(); n != "" {
		return n
	}
	return m.Email
}

// Members returns the account's members with their names, emails, roles and
// statuses, ordered by last name, first name and email. The actor must be
// able to view the account's members.
//
// It reads every member of the account, one by one: it serves short lists,
// such as the staff of a firm offered for a client; the team page and the
// roles page page through members with their own query.
func (s *Service) Members(ctx context.Context, actor Actor, account equipe.ID) ([]MemberSummary, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return nil, err
	}
	ms, err := s.DB.Members(ctx, account)
	if err != nil {
		return nil, err
	}
	out := make([]MemberSummary, 0, len(ms))
	for _, m := range ms {
		u, err := s.DB.UserByID(ctx, m.UserID)
		if err != nil {
			return nil, err
		}
		u = m.SeenBy(u)
		out = append(out, MemberSummary{UserID: m.UserID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
			Role: m.Role, Status: m.Status, Disabled: !u.DisabledAt.IsZero()})
	}
	slices.SortFunc(out, func(a, b MemberSummary) int {
		return cmp.Or(
			strings.Compare(strings.ToLower(a.LastName), strings.ToLower(b.LastName)),
			strings.Compare(strings.ToLower(a.FirstName), strings.ToLower(b.FirstName)),
			strings.Compare(strings.ToLower(a.Email), strings.ToLower(b.Email)))
	})
	return out, nil
}

// MemberAccess is what a member may do in an account, with who they are:
// the effective-permissions page.
type MemberAccess struct {
	Effective
	Person MemberSummary // for firm staff: their role and status in the firm
	Role   access.Role   // the role they act with, with its labels
	// Firm is the firm through which the member acts, when ViaFirm.
	Firm *equipe.Account
	// Assigned are the resources assigned to the member, by type and name.
	Assigned []equipe.Resource
}

// MemberAccess returns what the user may do in the account and why: their
// role, their effective permissions with their sources, whether every check
// is denied, and their assigned resources. The actor must be able to view the
// account's members; a user who is neither a member nor firm staff with
// access answers ENOTFOUND.
func (s *Service) MemberAccess(ctx context.Context, actor Actor, account, user equipe.ID) (MemberAccess, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return MemberAccess{}, err
	}
	e, err := s.loadMember(ctx, account, user)
	if err != nil {
		return MemberAccess{}, err
	}
	if e.m == nil {
		return MemberAccess{}, notFound()
	}
	u, err := s.DB.UserByID(ctx, user)
	if err != nil {
		return MemberAccess{}, err
	}
	if !e.m.ViaFirm() {
		m, err := s.DB.Member(ctx, account, user)
		if err != nil {
			return MemberAccess{}, err
		}
		u = m.SeenBy(u)
	}
	out := MemberAccess{
		Effective: Effective{Member: e.m, Permissions: s.Catalogue.Effective(e.m), Resources: e.m.Resources(),
			ViaFirm: e.m.ViaFirm(), Blocked: e.m.Blocked()},
		Person: MemberSummary{UserID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
			Role: e.m.RoleKey(), Status: equipe.MemberStatus(e.m.Status().String()), Disabled: !u.DisabledAt.IsZero()},
	}
	roleAccount := account
	if e.m.ViaFirm() {
		roleAccount = e.firm
		// Who the firm's staff are, and the firm itself, are told only to
		// those who may see the firm's members: a client's own members learn
		// what a staff member may do here, not who they are.
		if _, _, err := s.authorize(ctx, actor, e.firm, "members.view"); err == nil {
			firm, err := s.DB.AccountByID(ctx, e.firm)
			if err != nil {
				return MemberAccess{}, err
			}
			out.Firm = &firm
		} else if code := equipe.ErrorCode(err); code == equipe.ENOTFOUND || code == equipe.EFORBIDDEN {
			out.Person.FirstName, out.Person.LastName, out.Person.Email = "", "", ""
		} else {
			return MemberAccess{}, err
		}
	}
	if out.Role, _, err = s.resolveRole(ctx, s.DB.Queries, roleAccount, e.m.RoleKey()); err != nil {
		return MemberAccess{}, err
	}
	if out.Assigned, err = s.assigned(ctx, account, e.m); err != nil {
		return MemberAccess{}, err
	}
	return out, nil
}

// MyRole returns the role the actor's user holds in the account, with its
// labels, whatever their standing there: anyone may know their own role.
// Returns ENOTFOUND when the actor is not a user who is a member.
func (s *Service) MyRole(ctx context.Context, actor Actor, account equipe.ID) (access.Role, error) {
	if actor.User == nil {
		return access.Role{}, notFound()
	}
	m, err := s.DB.Member(ctx, account, actor.User.ID)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return access.Role{}, notFound()
	} else if err != nil {
		return access.Role{}, err
	}
	r, _, err := s.resolveRole(ctx, s.DB.Queries, account, m.Role)
	return r, err
}

// MyAccess returns what the actor's user holds in the account, whatever
// they may view there (anyone may know what they hold): their role, status,
// effective permissions and assigned resources, and the firm they act
// through in one of its clients. Returns ENOTFOUND when they reach the
// account through no membership.
func (s *Service) MyAccess(ctx context.Context, actor Actor, account equipe.ID) (MemberAccess, error) {
	if actor.User == nil || actor.Key != nil {
		return MemberAccess{}, notFound()
	}
	u := *actor.User
	e, err := s.loadMember(ctx, account, u.ID)
	if err != nil {
		return MemberAccess{}, err
	}
	if e.m == nil {
		return MemberAccess{}, notFound()
	}
	out := MemberAccess{
		Effective: Effective{Member: e.m, Permissions: s.Catalogue.Effective(e.m), Resources: e.m.Resources(),
			ViaFirm: e.m.ViaFirm(), Blocked: e.m.Blocked()},
		Person: MemberSummary{UserID: u.ID, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
			Role: e.m.RoleKey(), Status: equipe.MemberStatus(e.m.Status().String()), Disabled: !u.DisabledAt.IsZero()},
	}
	roleAccount := account
	if e.m.ViaFirm() {
		roleAccount = e.firm
		firm, err := s.DB.AccountByID(ctx, e.firm)
		if err != nil {
			return MemberAccess{}, err
		}
		out.Firm = &firm
	}
	if out.Role, _, err = s.resolveRole(ctx, s.DB.Queries, roleAccount, e.m.RoleKey()); err != nil {
		return MemberAccess{}, err
	}
	if out.Assigned, err = s.assigned(ctx, account, e.m); err != nil {
		return MemberAccess{}, err
	}
	return out, nil
}

// assigned returns the account's resources assigned to the member m.
func (s *Service) assigned(ctx context.Context, account equipe.ID, m *access.Member) ([]equipe.Resource, error) {
	if len(m.Resources()) == 0 {
		return nil, nil
	}
	all, err := s.DB.Resources(ctx, account)
	if err != nil {
		return nil, err
	}
	var out []equipe.Resource
	for _, r := range all {
		if m.Assigned(r.ID) {
			out = append(out, r)
		}
	}
	return out, nil
}
