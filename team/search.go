package team

import (
	"context"
	"slices"

	"github.com/equipe-dev/equipe"
)

// The searches answer "who may", "on which" and "what may" with the same
// decision as Check: each candidate is checked as Check would answer it, so
// that a result, asked about again, is allowed (unless something changed in
// between).

// MaxSearchPage bounds a page of search results.
const MaxSearchPage = 1000

// PermittedMember is a member a search found, with the vendor's identifier
// of them in the account.
type PermittedMember struct {
	User       equipe.ID
	ExternalID string
}

// PermittedMembers returns, in user ID order after the cursor (nil: from the
// start), up to limit people whom Check allows q.Permission in q.Account
// with q.Query (q.User and q.UserRef are ignored), and whether more may
// follow: the account's members and, for a client account, its firm's
// members who act there (its administrators, and the staff assigned to
// it), as Check decides — except to a caller to whom the firm's staff are
// not named (staffUnnamed: the client's own members and keys), who learns
// none of them. An account out of the caller's reach has no members to it.
func (s *Service) PermittedMembers(ctx context.Context, caller Actor, q CheckQuery, after *equipe.ID, limit int) ([]PermittedMember, bool, error) {
	if ok, err := s.mayAsk(ctx, caller, q.Account); err != nil || !ok {
		return nil, false, err
	}
	if q.OwnerRef != nil {
		var err error
		if q, _, err = s.resolveRefs(ctx, caller, CheckQuery{Account: q.Account, Permission: q.Permission, Query: q.Query, OwnerRef: q.OwnerRef}); err != nil {
			return nil, false, err
		}
	}
	ms, err := s.DB.Members(ctx, q.Account)
	if err != nil {
		return nil, false, err
	}
	acct, err := s.loadAccount(ctx, q.Account)
	if err != nil {
		return nil, false, err
	}
	unnamed := false
	if acct.parent != nil {
		if unnamed, err = s.staffUnnamed(ctx, caller, q.Account); err != nil {
			return nil, false, err
		}
	}
	if acct.parent != nil && !unnamed {
		staff, err := s.DB.Members(ctx, *acct.parent)
		if err != nil {
			return nil, false, err
		}
		// The firm's members by the same order; the vendor's identifier
		// of them is the client account's, which they are no member of.
		for i := range staff {
			staff[i].ExternalID = ""
		}
		ms = append(ms, staff...)
		slices.SortStableFunc(ms, func(a, b equipe.Member) int { return compareIDs(a.UserID, b.UserID) })
		ms = slices.CompactFunc(ms, func(a, b equipe.Member) bool { return a.UserID == b.UserID })
	}
	var out []PermittedMember
	for _, m := range ms {
		if after != nil && compareIDs(m.UserID, *after) <= 0 {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		one := q
		one.User, one.UserRef = m.UserID, nil
		d, err := s.Check(ctx, caller, one)
		if err != nil {
			return nil, false, err
		}
		if d.Allowed {
			out = append(out, PermittedMember{User: m.UserID, ExternalID: m.ExternalID})
		}
	}
	return out, false, nil
}

// PermittedResources returns, in ID order after the cursor (nil: from the
// start), up to limit of the account's resources of type typ on which Check
// allows the user q.Permission (with q's owner, if any), and whether more
// may follow. An account out of the caller's reach has no resources to it.
func (s *Service) PermittedResources(ctx context.Context, caller Actor, q CheckQuery, typ string, after *equipe.ID, limit int) ([]equipe.Resource, bool, error) {
	if ok, err := s.mayAsk(ctx, caller, q.Account); err != nil || !ok {
		return nil, false, err
	}
	q, denied, err := s.resolveRefs(ctx, caller, q)
	if err != nil || denied != nil {
		return nil, false, err
	}
	rs, err := s.DB.Resources(ctx, q.Account)
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(rs, func(a, b equipe.Resource) int { return compareIDs(a.ID, b.ID) })
	var out []equipe.Resource
	for _, r := range rs {
		if r.Type != typ || (after != nil && compareIDs(r.ID, *after) <= 0) {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		one := q
		one.Query.Resource, one.Query.HasResource = r.ID, true
		d, err := s.Check(ctx, caller, one)
		if err != nil {
			return nil, false, err
		}
		if d.Allowed {
			out = append(out, r)
		}
	}
	return out, false, nil
}

// PermittedPermissions returns the keys of the catalogue's permissions, in
// the catalogue's order, that Check allows the user with q.Query (q's
// permission is ignored).
func (s *Service) PermittedPermissions(ctx context.Context, caller Actor, q CheckQuery) ([]string, error) {
	if ok, err := s.mayAsk(ctx, caller, q.Account); err != nil || !ok {
		return nil, err
	}
	q, denied, err := s.resolveRefs(ctx, caller, q)
	if err != nil || denied != nil {
		return nil, err
	}
	var out []string
	for _, p := range s.Catalogue.Permissions {
		one := q
		one.Permission = p.Key
		d, err := s.Check(ctx, caller, one)
		if err != nil {
			return nil, err
		}
		if d.Allowed {
			out = append(out, p.Key)
		}
	}
	return out, nil
}

// compareIDs orders IDs as their text does (and as the database sorts them).
func compareIDs(a, b equipe.ID) int {
	for i := range a {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return 0
}

// DeclaresResourceType reports whether the catalogue declares the resource
// type: a resource of it is one of the account's, else one of the vendor's
// own records.
func (s *Service) DeclaresResourceType(typ string) bool {
	_, ok := s.Catalogue.ResourceType(typ)
	return ok
}
