package team

import (
	"context"
	"slices"

	"github.com/equipe-dev/equipe"
)

// SignInAccount is an account a person may act in through an OpenID
// Connect client: its ID, name and the person's role there.
type SignInAccount struct {
	ID   equipe.ID
	Name string
	Role string
}

// SignInAccounts returns the accounts the user may act in, for the tokens
// of OpenID Connect clients: their active memberships, then the client
// accounts of their firms. Suspended, invited and removed memberships are
// not among them.
//
// The list is kept in memory until anything it was read from changes (see
// signInLists); the slice returned is the caller's.
func (s *Service) SignInAccounts(ctx context.Context, user equipe.ID) ([]SignInAccount, error) {
	if l, ok := s.signIn.get(user); ok {
		return slices.Clone(l), nil
	}
	seq, epoch := s.signIn.seq.Load(), s.signIn.epoch.Load()
	entries, _, err := s.MyAccounts(ctx, user, equipe.Page{})
	if err != nil {
		return nil, err
	}
	out := make([]SignInAccount, 0, len(entries))
	deps := make([]signInDep, 0, 1+2*len(entries))
	deps = append(deps, s.signIn.dep(user))
	for _, e := range entries {
		deps = append(deps, s.signIn.dep(e.Account.ID))
		if e.Firm != nil {
			deps = append(deps, s.signIn.dep(*e.Firm))
		}
		st, err := s.SignInStanding(ctx, e.Account.ID, user)
		if err != nil {
			if equipe.ErrorCode(err) == equipe.EFORBIDDEN {
				continue
			}
			return nil, err
		}
		if !slices.ContainsFunc(out, func(a SignInAccount) bool { return a.ID == e.Account.ID }) {
			out = append(out, SignInAccount{ID: e.Account.ID, Name: e.Account.Name, Role: st.Role})
		}
	}
	s.signIn.put(user, seq, epoch, slices.Clone(out), deps)
	return out, nil
}

// SignInStanding is where a person stands in an account, for a token that
// carries the account: their role and effective permissions.
type SignInStanding struct {
	Role        string
	Permissions []string
}

// SignInStanding returns the user's role and effective permissions in the
// account, from the same member rules as every check. Returns EFORBIDDEN
// "oidc.account_unavailable" when they may not act there: not a member nor
// a firm's staff, suspended, invited, or their identity disabled.
func (s *Service) SignInStanding(ctx context.Context, account, user equipe.ID) (SignInStanding, error) {
	e, err := s.loadMember(ctx, account, user)
	if err != nil {
		return SignInStanding{}, err
	}
	if e.m == nil || e.m.Blocked() != "" {
		return SignInStanding{}, forbidden("oidc.account_unavailable", nil)
	}
	var perms []string
	for _, p := range s.Catalogue.Effective(e.m) {
		perms = append(perms, p.Permission)
	}
	return SignInStanding{Role: e.m.RoleKey(), Permissions: perms}, nil
}
