package identity

import (
	"context"

	"github.com/equipe-dev/equipe"
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
	email, key, p := NormalizeEmail(in.Email)
	if p != "" {
		v.Add("email", p)
	}
	first := checkName(&v, "first_name", in.FirstName)
	last := checkName(&v, "last_name", in.LastName)
	locale := checkLocale(&v, "locale", in.Locale)
	if p := CheckPassword(in.Password, email, first, last); p != "" {
		v.AddArgs("password", p, map[string]any{"min": MinPasswordLen, "max": MaxPasswordLen})
	}
	if err := v.Err(); err != nil {
		return equipe.User{}, err
	}
	now := s.Now()
	u := equipe.User{ID: equipe.NewID(), Email: email, EmailKey: key, FirstName: first, LastName: last, Locale: locale,
		PasswordHash: s.Hasher.Hash(in.Password), PasswordChangedAt: now, InstanceAdmin: true, EmailVerifiedAt: now,
		CreatedAt: now}
	err := s.write(ctx, now, Origin{IP: "local"}, func(tx *wtx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		return tx.audit(ctx, nil, nil, "instance_admin.created", "user", u.ID.String(), nil, map[string]any{"email": u.Email})
	})
	return u, err
}
