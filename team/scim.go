package team

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// A directory (Microsoft Entra ID, Okta) provisions an account's members
// through SCIM with an account key made for it (equipe.KeySCIM), once the
// account's administrator has turned SCIM on. What it does goes through the
// same use cases as the pages and the API (AddMember, ChangeMember,
// RemoveMember), under the key's role and within its creator's rights; the
// functions here only read.

// SCIMAccount returns the account whose members the actor provisions: the
// account of the SCIM key it authenticated with. Any other actor answers
// EUNAUTHORIZED "scim.key_required"; an account that has not turned SCIM on,
// EFORBIDDEN "scim.disabled".
func (s *Service) SCIMAccount(ctx context.Context, actor Actor) (equipe.Account, error) {
	k := actor.Key
	if k == nil || k.Purpose != equipe.KeySCIM || k.AccountID == nil {
		return equipe.Account{}, equipe.Errorf(equipe.EUNAUTHORIZED, "scim.key_required")
	}
	acct, err := s.DB.AccountByID(ctx, *k.AccountID)
	if err != nil {
		return equipe.Account{}, err
	}
	if !acct.SCIMEnabled {
		return equipe.Account{}, forbidden("scim.disabled", nil)
	}
	return acct, nil
}

// DirectoryEntry is a member as a directory sees them: their membership,
// their login email, and the names the account shows them under.
type DirectoryEntry struct {
	Member    equipe.Member
	Email     string
	FirstName string
	LastName  string
}

// MaxDirectoryPage is the most members DirectoryPage returns at once.
const MaxDirectoryPage = 200

// DirectoryPage returns at most limit (up to MaxDirectoryPage) members of
// the account from the offset-th on (0: the first), in a fixed order, and
// how many members the account has. The actor needs members.view.
func (s *Service) DirectoryPage(ctx context.Context, actor Actor, account equipe.ID, offset, limit int) ([]DirectoryEntry, int, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return nil, 0, err
	}
	counts, err := s.DB.CountMembers(ctx, account)
	if err != nil {
		return nil, 0, err
	}
	limit = min(max(limit, 0), MaxDirectoryPage)
	if limit == 0 || offset >= counts.Total {
		return nil, counts.Total, nil
	}
	rows, err := s.DB.MembersFrom(ctx, account, max(offset, 0), limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]DirectoryEntry, 0, len(rows))
	for _, r := range rows {
		out = append(out, directoryEntry(r))
	}
	return out, counts.Total, nil
}

// directoryEntry is the row under the names the account shows the member
// under (equipe.Member.ShownNames).
func directoryEntry(r store.MemberEntry) DirectoryEntry {
	first, last := r.Member.ShownNames(equipe.User{FirstName: r.FirstName, LastName: r.LastName})
	return DirectoryEntry{Member: r.Member, Email: r.Email, FirstName: first, LastName: last}
}

// DirectoryMember returns one member of the account as DirectoryPage does.
// A user who is no member of it answers ENOTFOUND.
func (s *Service) DirectoryMember(ctx context.Context, actor Actor, account, user equipe.ID) (DirectoryEntry, error) {
	m, u, _, err := s.Member(ctx, actor, account, user)
	if err != nil {
		return DirectoryEntry{}, err
	}
	return DirectoryEntry{Member: m, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName}, nil
}

// FindMember returns the user ID of the member of the account that ref
// names, and false when it names no member of it. The actor needs
// members.view.
func (s *Service) FindMember(ctx context.Context, actor Actor, account equipe.ID, ref UserRef) (equipe.ID, bool, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return equipe.ID{}, false, err
	}
	id, found, err := s.resolveMember(ctx, account, ref)
	if err != nil || !found {
		return id, found, err
	}
	// An ID names a member only if they are one.
	if ref.Kind == RefID {
		if _, err := s.DB.Member(ctx, account, id); equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return equipe.ID{}, false, nil
		} else if err != nil {
			return equipe.ID{}, false, err
		}
	}
	return id, true, nil
}

// MembersWithRole returns the user IDs of the account's members whose role
// is role. The actor needs members.view.
func (s *Service) MembersWithRole(ctx context.Context, actor Actor, account equipe.ID, role string) ([]equipe.ID, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return nil, err
	}
	return s.DB.MembersWithRole(ctx, account, role)
}

// BaseRole is the role a directory's member holds outside every group of
// the account's roles: the catalogue's last built-in role, the one that
// grants least by the catalogue's convention (guest in the default one). A
// member provisioned without a group holds it, and one taken out of their
// role's group goes back to it.
func (s *Service) BaseRole() string {
	return s.Catalogue.Roles[len(s.Catalogue.Roles)-1].Key
}

// RoleTimes are when a role of an account was made and when a directory's
// Group of it last changed: its name, or who holds it.
type RoleTimes struct {
	Created time.Time
	Changed time.Time
}

// RoleTimes returns the times of each role of the account, by key: a
// built-in role was made with the account; a custom role changes with its
// name as with its holders. The actor needs members.view.
func (s *Service) RoleTimes(ctx context.Context, actor Actor, account equipe.ID) (map[string]RoleTimes, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return nil, err
	}
	acct, err := s.DB.AccountByID(ctx, account)
	if err != nil {
		return nil, err
	}
	custom, err := s.DB.Roles(ctx, account)
	if err != nil {
		return nil, err
	}
	held, err := s.DB.RolesMembersChanged(ctx, account)
	if err != nil {
		return nil, err
	}
	later := func(a, b time.Time) time.Time {
		if b.After(a) {
			return b
		}
		return a
	}
	out := map[string]RoleTimes{}
	for _, r := range s.Catalogue.Roles {
		out[r.Key] = RoleTimes{Created: acct.CreatedAt, Changed: later(acct.CreatedAt, held[r.Key])}
	}
	for _, r := range custom {
		out[r.Key] = RoleTimes{Created: r.CreatedAt, Changed: later(later(r.CreatedAt, r.UpdatedAt), held[r.Key])}
	}
	return out, nil
}
