package team

import (
	"context"
	"unicode"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/work"
)

// A person may carry the vendor's own identifier twice over, each in its own
// scope:
//
//   - the user's (equipe.User.ExternalID): the vendor's identifier of the
//     person across the instance, unique in it. Only the instance sets it:
//     an account may not name, for every other account, the people it
//     shares with them.
//   - the member's (equipe.Member.ExternalID): the vendor's identifier of
//     the person in one account (a vendor whose tenants each keep their own
//     user table has one per tenant), unique in the account. Whoever manages
//     the account's members sets it.
//
// Where the API takes a user in an account, an external ID names the member
// whose own external ID it is, else the member whose user's it is: only the
// account's members are ever found.

// MaxPersonExternalID bounds a user's or a member's external ID, in
// characters.
const MaxPersonExternalID = 255

// possibleExternalID reports whether id may be someone's external ID: one
// that may not is looked up nowhere (the database would refuse some, such
// as a NUL byte, as an error).
func possibleExternalID(id string) bool {
	var v equipe.Invalid
	checkPersonExternalID(&v, "", id)
	return v.Err() == nil
}

// checkPersonExternalID validates a user's or a member's external ID under
// field: 1 to MaxPersonExternalID printable characters, kept exactly as
// given (compared case-sensitively, never trimmed).
func checkPersonExternalID(v *equipe.Invalid, field, id string) {
	switch {
	case id == "" || !utf8.ValidString(id):
		v.Add(field, "external_id.invalid")
	case utf8.RuneCountInString(id) > MaxPersonExternalID:
		v.AddArgs(field, "external_id.too_long", map[string]any{"max": MaxPersonExternalID})
	default:
		for _, r := range id {
			if !unicode.IsPrint(r) {
				v.Add(field, "external_id.invalid")
				return
			}
		}
	}
}

// SetUserExternalID sets the user's external ID (id "" clears it), for an
// instance administrator or an instance key, and returns the user as
// changed. Recorded as user.external_id_changed when it changes. Returns
// EINVALID for an identifier that is not 1 to 255 printable characters,
// ECONFLICT "user.external_id_taken" when another user has it; anyone but the
// instance, and an unknown user, is answered ENOTFOUND.
func (s *Service) SetUserExternalID(ctx context.Context, actor Actor, user equipe.ID, id string) (equipe.User, error) {
	return s.ChangeUser(ctx, actor, user, UserChange{ExternalID: &id})
}

// setExternalID sets u's external ID in the unit (see SetUserExternalID),
// id already checked.
func setExternalID(ctx context.Context, w *work.Unit, u *equipe.User, id string) error {
	if u.ExternalID == id {
		return nil
	}
	if err := w.SetUserExternalID(ctx, u.ID, id); err != nil {
		return err
	}
	before := u.ExternalID
	u.ExternalID = id
	return w.Record(ctx, event.UserExternalIDChanged.New(nil, u.ID.String(),
		&event.ExternalID{ExternalID: before}, &event.ExternalID{ExternalID: id}))
}

// MemberByExternalID returns the user ID of the member of the account that
// the vendor's identifier id names (the member's own external ID, else
// their user's), for an actor who may view the account's members. An
// identifier that names no member of the account, and an account out of
// the actor's reach, answer ENOTFOUND.
func (s *Service) MemberByExternalID(ctx context.Context, actor Actor, account equipe.ID, id string) (equipe.ID, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.view"); err != nil {
		return equipe.ID{}, err
	}
	if !possibleExternalID(id) {
		return equipe.ID{}, notFound()
	}
	return s.DB.MemberByExternalID(ctx, account, id)
}

// UserRefKind says how a vendor names a person.
type UserRefKind uint8

// The ways to name a person.
const (
	RefID       UserRefKind = iota // equipe's user ID
	RefExternal                    // the vendor's identifier (the member's, else the user's)
	RefEmail                       // the login email
)

// UserRef names a person the way a vendor may: by equipe's ID, by the
// vendor's own identifier or by login email.
type UserRef struct {
	Kind UserRefKind
	ID   equipe.ID // for RefID
	Text string    // the external ID or the email
}

// resolveMember returns the user ID of the member of the account that ref
// names, and false when it names no member of it (an unknown identifier, or
// someone who is not a member). Only a fault of the store is an error.
func (s *Service) resolveMember(ctx context.Context, account equipe.ID, ref UserRef) (equipe.ID, bool, error) {
	var id equipe.ID
	var err error
	switch ref.Kind {
	case RefID:
		return ref.ID, true, nil
	case RefExternal:
		if !possibleExternalID(ref.Text) {
			return equipe.ID{}, false, nil
		}
		id, err = s.DB.MemberByExternalID(ctx, account, ref.Text)
	case RefEmail:
		_, key, problem := identity.NormalizeEmail(ref.Text)
		if problem != "" {
			return equipe.ID{}, false, nil
		}
		id, err = s.DB.MemberByEmailKey(ctx, account, key)
	}
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return equipe.ID{}, false, nil
	}
	return id, err == nil, err
}

// UserByExternalID returns the ID of the user whose external ID is id
// (compared exactly), for an instance administrator or an instance key.
// Anyone else, and an identifier that names no user, is answered ENOTFOUND.
func (s *Service) UserByExternalID(ctx context.Context, actor Actor, id string) (equipe.ID, error) {
	if !actor.instance() || !possibleExternalID(id) {
		return equipe.ID{}, notFound()
	}
	u, err := s.DB.UserByExternalID(ctx, id)
	return u.ID, err
}
