package identity

import (
	"context"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/work"
)

// NewAdmin is an instance administrator to create from the terminal.
type NewAdmin struct {
	Email     string
	FirstName string
	LastName  string
	Locale    string
	Password  string
}

// CreateAdmin creates an instance administrator: a user who looks after every
// account. Their email counts as verified (the operator vouches for it); they
// accept the privacy policy at their first login like everyone else.
// Returns EINVALID for bad input and ECONFLICT "email.taken" when the
// email already has an identity.
func (s *Service) CreateAdmin(ctx context.Context, in NewAdmin) (equipe.User, error) {
	var v equipe.Invalid
	p := checkPerson(&v, in.Email, in.FirstName, in.LastName, in.Locale)
	CheckNewPassword(&v, in.Password, p.email, p.first, p.last)
	if err := v.Err(); err != nil {
		return equipe.User{}, err
	}
	now := s.now()
	u := equipe.User{ID: equipe.NewUserID(), Email: p.email, EmailKey: p.key, FirstName: p.first, LastName: p.last, Locale: p.locale,
		PasswordHash: s.Hasher.Hash(in.Password), PasswordChangedAt: now, InstanceAdmin: true, EmailVerifiedAt: now,
		CreatedAt: now}
	err := s.Work.DoAt(ctx, now, event.System, equipe.Origin{IP: "local"}, func(w *work.Unit) error {
		if err := w.CreateUser(ctx, &u); err != nil {
			return err
		}
		return w.Record(ctx, event.InstanceAdminCreated.New(nil, u.ID.String(), nil, &event.Address{Email: u.Email}))
	})
	return u, err
}
