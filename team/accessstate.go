package team

import (
	"context"
	"strconv"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// MaxAccessUsers bounds the users of one AccessStateOf request.
const MaxAccessUsers = 100

// AccessState is what deciding checks in an account takes, for a vendor's
// process that decides them itself with package access (the client's
// Checker): the account's resources and, for each user asked about, the
// access.Input the service compiles them from (nil: not a member, denied).
// Cursor is the change stream's end when it was read, before the state: a
// reader that follows the stream from there misses no change to it.
type AccessState struct {
	Cursor    string
	Account   equipe.ID
	Parent    *equipe.ID // the firm, for a client account
	Resources []equipe.ID
	Archived  []equipe.ID
	Members   map[equipe.ID]*access.Input
}

// AccessStateOf returns the account's AccessState for up to MaxAccessUsers
// users. Callers are those who may check in the account (see Check): the
// instance, the account's key or its firm's, an administrator's session.
// An account out of the caller's reach, or that does not exist, answers
// ENOTFOUND.
func (s *Service) AccessStateOf(ctx context.Context, caller Actor, account equipe.ID, users []equipe.ID) (AccessState, error) {
	if ok, err := s.mayAsk(ctx, caller, account); err != nil {
		return AccessState{}, err
	} else if !ok {
		s.refusedAcross(ctx, caller, account, "access")
		return AccessState{}, notFound()
	}
	if len(users) == 0 || len(users) > MaxAccessUsers {
		return AccessState{}, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{
			Field: "user", Key: "access.users_count", Args: map[string]any{"max": MaxAccessUsers}}}}
	}
	last, err := s.DB.LastEventSeq(ctx)
	if err != nil {
		return AccessState{}, err
	}
	acct, err := s.DB.AccountByID(ctx, account)
	if err != nil {
		return AccessState{}, err
	}
	st := AccessState{Cursor: strconv.FormatInt(last, 10), Account: account, Parent: acct.ParentID,
		Members: make(map[equipe.ID]*access.Input, len(users))}
	if st.Resources, st.Archived, err = s.DB.ResourceIDs(ctx, account); err != nil {
		return AccessState{}, err
	}
	for _, u := range users {
		in, _, err := s.memberInput(ctx, account, u)
		if err != nil {
			return AccessState{}, err
		}
		st.Members[u] = in
	}
	return st, nil
}
