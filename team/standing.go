package team

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// Standings of a person towards an account they cannot open.
const (
	// StandingNone: the person was never a member of the account, or it
	// does not exist: nothing may be said of it (tenant isolation).
	StandingNone = ""
	// StandingMember: the person is a member; whatever refused them is
	// not their standing.
	StandingMember = "member"
	// StandingSuspended: the person's membership is suspended.
	StandingSuspended = "suspended"
	// StandingRemoved: the person was a member and was removed.
	StandingRemoved = "removed"
)

// Standing is what a person who cannot open an account may be told of it:
// only when they are, or were, its member.
type Standing struct {
	Kind    string
	Account equipe.Account // for StandingSuspended and StandingRemoved
	// Admins are the account's active administrators, whom a suspended
	// member may ask to be reactivated (a few of them).
	Admins []Contact
	// RemovedAt is when a removed member was removed.
	RemovedAt time.Time
}

// Contact is a person to write to: a name and an email address.
type Contact struct {
	Name  string
	Email string
}

// maxAdminContacts is how many administrators a suspended member is shown.
const maxAdminContacts = 5

// Standing says where the person stands towards the account, so that a
// page refused to them can explain why: suspended (with the account's
// administrators to contact), removed (a removal the audit log remembers),
// still a member, or none. Someone who was never a member learns nothing,
// not even whether the account exists: StandingNone. Only a person (a
// user, not an API key or the instance) has a standing.
func (s *Service) Standing(ctx context.Context, actor Actor, account equipe.ID) (Standing, error) {
	if actor.User == nil || actor.Key != nil {
		return Standing{}, nil
	}
	user := actor.User.ID
	m, err := s.DB.Member(ctx, account, user)
	switch equipe.ErrorCode(err) {
	case "":
		if m.Status != equipe.MemberSuspended {
			return Standing{Kind: StandingMember}, nil
		}
		acct, err := s.DB.AccountByID(ctx, account)
		if err != nil {
			return Standing{}, err
		}
		rows, _, err := s.DB.ListMembers(ctx, store.MemberFilter{Account: account, Status: equipe.MemberActive,
			Role: equipe.RoleAdmin, Limit: maxAdminContacts})
		if err != nil {
			return Standing{}, err
		}
		out := Standing{Kind: StandingSuspended, Account: acct}
		for _, r := range rows {
			name := (&equipe.User{FirstName: r.FirstName, LastName: r.LastName}).Name()
			out.Admins = append(out.Admins, Contact{Name: name, Email: r.Email})
		}
		return out, nil
	case equipe.ENOTFOUND:
	default:
		return Standing{}, err
	}
	at, err := s.DB.RemovedAt(ctx, account, user)
	switch equipe.ErrorCode(err) {
	case "":
	case equipe.ENOTFOUND:
		return Standing{}, nil
	default:
		return Standing{}, err
	}
	acct, err := s.DB.AccountByID(ctx, account)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return Standing{}, nil
	} else if err != nil {
		return Standing{}, err
	}
	return Standing{Kind: StandingRemoved, Account: acct, RemovedAt: at}, nil
}
