package team

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// UserView is what an instance administrator sees of a user: their
// identity, their memberships, how many sessions they have open and which
// second factors they use (never their secrets).
type UserView struct {
	User        equipe.User
	Memberships []equipe.MemberAccount
	Sessions    int
	Factors     store.FactorSummary
}

// Users returns a page of the instance's users in login-email order, those
// whose names or email hold every word of search, after the cursor (nil:
// the first page), with the cursor of the next page ("" on the last). Only
// the instance (an instance administrator or an instance key) reads them;
// anyone else is answered ENOTFOUND.
func (s *Service) Users(ctx context.Context, actor Actor, search string, p equipe.Page) ([]equipe.User, string, error) {
	const list = "users"
	if !actor.instance() {
		return nil, "", notFound()
	}
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	after, err := p.KeyID(list)
	if err != nil {
		return nil, "", err
	}
	users, err := s.DB.ListUsers(ctx, store.UserFilter{Search: search, After: after, Limit: p.Limit + 1})
	if err != nil {
		return nil, "", err
	}
	users, next := equipe.Cut(users, p, list, func(u equipe.User) []string { return []string{u.ID.String()} })
	return users, next, nil
}

// User returns what an instance administrator sees of the user, counting
// the sessions seen within idle (the identity's idle lifetime). Anyone
// else, and an unknown user, is answered ENOTFOUND.
func (s *Service) User(ctx context.Context, actor Actor, id equipe.ID, idle time.Duration) (UserView, error) {
	if !actor.instance() {
		return UserView{}, notFound()
	}
	u, err := s.DB.UserByID(ctx, id)
	if err != nil {
		return UserView{}, err
	}
	v := UserView{User: u}
	if v.Memberships, err = s.DB.AccountsOfUser(ctx, id); err != nil {
		return UserView{}, err
	}
	now := s.now()
	if v.Sessions, err = s.DB.CountSessions(ctx, id, now, now.Add(-idle)); err != nil {
		return UserView{}, err
	}
	if v.Factors, err = s.DB.Factors(ctx, id); err != nil {
		return UserView{}, err
	}
	return v, nil
}

// EndUserSessions ends every session of the user (they must log in again
// everywhere), for an instance administrator or an instance key, and
// returns how many it ended. Audited as user.sessions_ended by the actor.
// Anyone else, and an unknown user, is answered ENOTFOUND.
func (s *Service) EndUserSessions(ctx context.Context, actor Actor, id equipe.ID) (int, error) {
	if !actor.instance() {
		return 0, notFound()
	}
	var n int64
	err := s.Work.Do(ctx, actor.recorded(), equipe.Origin{IP: actor.IP}, func(w *work.Unit) error {
		if _, err := w.UserByID(ctx, id); err != nil {
			return err
		}
		var err error
		if n, err = w.DeleteUserSessions(ctx, id); err != nil {
			return err
		}
		return w.Record(ctx, event.UserSessionsEnded.New(nil, id.String(), nil, &event.Sessions{Ended: int(n)}))
	})
	return int(n), err
}
