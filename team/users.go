package team

import (
	"context"
	"slices"
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
	// Actions answers which of UserDisable and UserEnable the reader may
	// take (the one that applies to the identity as it is), and whether
	// they may take UserRemoveFactors.
	Actions Actions
}

// Actions on a person's identity, for the instance.
const (
	UserDisable       = "disable"
	UserEnable        = "enable"
	UserRemoveFactors = "remove_second_factors" // RemoveSecondFactors
)

// disableRule answers whether actor may disable u's identity, the
// instance's enabled administrators being admins: not their own, nor the
// last enabled administrator's.
func disableRule(actor Actor, u equipe.User, admins []equipe.ID) error {
	if me := actor.userID(); me != nil && *me == u.ID {
		return equipe.Errorf(equipe.ECONFLICT, "user.disable_self")
	}
	if u.InstanceAdmin && len(admins) <= 1 && slices.Contains(admins, u.ID) {
		return equipe.Errorf(equipe.ECONFLICT, "user.disable_last_instance_admin")
	}
	return nil
}

// Users returns a page of the instance's users in login-email order, those
// whose names or email hold every word of search, after the cursor (nil:
// the first page), with the cursor of the next page ("" on the last). Only
// the instance (an instance administrator or an instance key) reads them;
// anyone else is answered ENOTFOUND.
func (s *Service) Users(ctx context.Context, actor Actor, search string, p equipe.Page) ([]equipe.User, string, error) {
	// The cursor holds the sort key itself, the login email, rather than
	// the user's ID: the position holds when that user changes their
	// address or is erased before the next page is asked for.
	const list = "users/email"
	if !actor.instance() {
		return nil, "", notFound()
	}
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	k, err := p.Key(list, 1)
	if err != nil {
		return nil, "", err
	}
	f := store.UserFilter{Search: search, Limit: p.Limit + 1}
	if k != nil {
		if k[0] == "" {
			return nil, "", equipe.ErrCursor()
		}
		f.After = k[0]
	}
	users, err := s.DB.ListUsers(ctx, f)
	if err != nil {
		return nil, "", err
	}
	users, next := equipe.Cut(users, p, list, func(u equipe.User) []string { return []string{u.EmailKey} })
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
	factors := ActionAnswer{Name: UserRemoveFactors, Allowed: allowed(removeFactorsRule(actor, id, v.Factors))}
	if !u.DisabledAt.IsZero() {
		v.Actions = Actions{{Name: UserEnable}, factors}
		return v, nil
	}
	var admins []equipe.ID
	if u.InstanceAdmin {
		if admins, err = s.DB.EnabledInstanceAdmins(ctx); err != nil {
			return UserView{}, err
		}
	}
	v.Actions = Actions{{Name: UserDisable, Allowed: allowed(disableRule(actor, u, admins))}, factors}
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

// UserChange is what an instance administrator or an instance key changes
// of a user at once (see ChangeUser): nil leaves a field as it is.
type UserChange struct {
	// ExternalID sets the vendor's identifier of the person ("" clears it).
	ExternalID *string
	// Disabled disables the identity (true) or enables it again (false).
	Disabled *bool
}

// ChangeUser changes what c names of the user, in one transaction, for an
// instance administrator or an instance key, and returns the user as
// changed. For the external ID see SetUserExternalID.
//
// Disabled, the person can no longer log in, every session of theirs ends
// (and the OpenID Connect grants their logins gave, the clients told), every
// check about them is denied (denied_user_disabled), in every process at
// once, and the keys they created stop acting (api_key.creator_disabled).
// Enabled again, they log in again and their keys act again; what ended
// stays ended. Audited as user.disabled (with the sessions ended) and
// user.enabled. An administrator cannot disable themself
// (ECONFLICT "user.disable_self"), nor the instance's last administrator
// whose identity is enabled ("user.disable_last_instance_admin"). Disabling
// a disabled identity, or enabling an enabled one, changes nothing. The
// accounts the person administers keep their memberships: their other
// administrators, and the instance, act there as before.
//
// Anyone but the instance, and an unknown user, is answered ENOTFOUND.
func (s *Service) ChangeUser(ctx context.Context, actor Actor, id equipe.ID, c UserChange) (equipe.User, error) {
	if !actor.instance() {
		return equipe.User{}, notFound()
	}
	if c.ExternalID != nil && *c.ExternalID != "" {
		var v equipe.Invalid
		checkPersonExternalID(&v, "external_id", *c.ExternalID)
		if err := v.Err(); err != nil {
			return equipe.User{}, err
		}
	}
	var out equipe.User
	err := s.do(ctx, actor, func(w *work.Unit) error {
		u, err := w.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if c.ExternalID != nil {
			if err := setExternalID(ctx, w, &u, *c.ExternalID); err != nil {
				return err
			}
		}
		if c.Disabled != nil {
			if err := setDisabled(ctx, w, actor, &u, *c.Disabled); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

// setDisabled disables or enables u in the unit (see ChangeUser).
func setDisabled(ctx context.Context, w *work.Unit, actor Actor, u *equipe.User, disabled bool) error {
	if disabled == !u.DisabledAt.IsZero() {
		return nil
	}
	if !disabled {
		if err := w.SetUserDisabled(ctx, u.ID, time.Time{}); err != nil {
			return err
		}
		u.DisabledAt = time.Time{}
		return w.Record(ctx, event.UserEnabled.New(nil, u.ID.String(), nil, nil))
	}
	var admins []equipe.ID
	if u.InstanceAdmin {
		// Locked: two administrators disabling each other at once cannot
		// leave the instance with none.
		var err error
		if admins, err = w.LockInstanceAdmins(ctx); err != nil {
			return err
		}
	}
	if err := disableRule(actor, *u, admins); err != nil {
		return err
	}
	if err := w.SetUserDisabled(ctx, u.ID, w.Now()); err != nil {
		return err
	}
	n, err := w.DeleteUserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	u.DisabledAt = w.Now()
	return w.Record(ctx, event.UserDisabled.New(nil, u.ID.String(), nil, &event.Sessions{Ended: int(n)}))
}
