package team

import (
	"context"
	"errors"
	"time"

	"github.com/equipe-dev/equipe"
)

// mfaPolicy is an account's second-factor requirement, as its cached entry
// keeps it: since when members must have one (zero: they need not), and
// the grace each has to enrol.
type mfaPolicy struct {
	since time.Time
	grace time.Duration
}

// SecondFactorRule is what an account's second-factor requirement asks of
// one person in it.
type SecondFactorRule struct {
	// Enrol: the account requires a second factor and the person has
	// none. Until Deadline they are told so; from then (Due) they may do
	// nothing in the account but enrol.
	Enrol    bool
	Deadline time.Time
	Due      bool
}

// deadline is when a member who joined at joined must have a second factor:
// the grace counts from the requirement, or from their joining if later,
// so that a newcomer gets the whole grace too.
func (p mfaPolicy) deadline(joined time.Time) time.Time {
	from := p.since
	if joined.After(from) {
		from = joined
	}
	return from.Add(p.grace)
}

// SecondFactorRule answers whether the account's requirement of a second
// factor holds the user back, for the pages and the API to apply on every
// request of that person's session in the account. It is cheap: the
// account's requirement and the membership come from the cache, so an
// account without the requirement costs two map reads; only where it is
// required does it ask the store whether the person has a second factor
// (one indexed query), so that enrolling or removing one is seen at once.
// A user with no membership or one not active (the request will be refused
// anyway, and the pages say why: suspended, removed), and API keys, which
// are not people, are never held back.
func (s *Service) SecondFactorRule(ctx context.Context, account, user equipe.ID) (SecondFactorRule, error) {
	a, err := s.loadAccount(ctx, account)
	if err != nil || a.a == nil || a.mfa.since.IsZero() {
		return SecondFactorRule{}, err
	}
	m, err := s.loadMember(ctx, account, user)
	if err != nil || m.m == nil || !m.active {
		return SecondFactorRule{}, err
	}
	has, err := s.DB.HasSecondFactor(ctx, user)
	if err != nil || has {
		return SecondFactorRule{}, err
	}
	d := a.mfa.deadline(m.joined)
	return SecondFactorRule{Enrol: true, Deadline: d, Due: !s.now().Before(d)}, nil
}

// EnrolmentRequired is the answer to a request of a person held back by
// their account's second-factor requirement (SecondFactorRule.Due).
func EnrolmentRequired() error {
	return equipe.Errorf(equipe.EFORBIDDEN, "mfa.enrolment_required")
}

// IsEnrolmentRequired reports whether err is EnrolmentRequired's.
func IsEnrolmentRequired(err error) bool {
	var e *equipe.Error
	return errors.As(err, &e) && e.Key == "mfa.enrolment_required"
}
