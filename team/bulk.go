package team

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/work"
)

// Bulk actions: one action taken on many members at once, member by member.
const (
	BulkReinvite   = "reinvite"    // send the invitation again to those who have not joined (Invite)
	BulkChangeRole = "change_role" // give them a role (ChangeMember)
	BulkSuspend    = "suspend"     // Suspend
	BulkReactivate = "reactivate"  // Reactivate
	BulkRemove     = "remove"      // RemoveMember
)

// BulkActions lists the bulk actions, in the order pages offer them.
var BulkActions = []string{BulkReinvite, BulkChangeRole, BulkSuspend, BulkReactivate, BulkRemove}

// MaxBulk is the most members one bulk request names or selects: a
// selection of more answers EINVALID "bulk.too_many". It bounds the time a
// request takes (each member is a unit of work) and the size of the pages
// that confirm it.
const MaxBulk = 1000

// Bulk is an action on many members of an account: either the members
// named by Users, or every member Filter selects at the time of the
// request (its cursor and limit are ignored).
type Bulk struct {
	Action string
	Role   string // the role given, for BulkChangeRole
	Users  []equipe.ID
	Filter *MemberFilter
}

// BulkOutcome is what a bulk action did, or would do, to one member.
type BulkOutcome struct {
	User      equipe.ID
	FirstName string // under the names the account shows them
	LastName  string
	Email     string
	// Err is why the member is skipped: the refusal the single-member action
	// answers (a rule's, a throttle's, or error.not_found for a member no
	// longer in the account); nil when the action is done.
	Err *equipe.Error
	// Until is when a throttle that stopped the member's change lifts.
	Until time.Time
}

// Done reports whether the action is (or would be) done to the member.
func (o BulkOutcome) Done() bool { return o.Err == nil }

// Code returns the reason the member is skipped, "" when done.
func (o BulkOutcome) Code() string {
	if o.Err == nil {
		return ""
	}
	return o.Err.Key
}

// Name returns the member's full name, or their email when they have none.
func (o BulkOutcome) Name() string {
	return MemberSummary{FirstName: o.FirstName, LastName: o.LastName, Email: o.Email}.Name()
}

// BulkResult is the outcome of a bulk action for each member, in the order
// of the selection, with how many are done and skipped.
type BulkResult struct {
	Action   string
	Role     string
	Outcomes []BulkOutcome
	Done     int
	Skipped  int
}

// PlanBulk answers what ApplyBulk would do, member by member, without
// changing anything: the dry run, and the confirmation page. Each member's
// change is rehearsed — the very use case that applies it runs in its unit
// of work, which is then rolled back — so the plan and the change cannot
// disagree on a rule; only a concurrent change, or a throttle that the
// members before fill up (each member is rehearsed alone), may make the
// change differ.
func (s *Service) PlanBulk(ctx context.Context, actor Actor, account equipe.ID, b Bulk) (BulkResult, error) {
	return s.bulk(ctx, actor, account, b, true)
}

// ApplyBulk takes the action on each member of the selection, one after the
// other, each in its own unit of work: a member's change is done wholly or
// not at all, with its one event (member.changed, member.suspended,
// member.reactivated, member.removed, invitation.sent or invitation.resent)
// and its email queued to the outbox. A member the rules refuse, a throttle
// stops or a concurrent change removed is skipped with the reason, and the
// others are done. The actor needs members.manage; a malformed request
// answers EINVALID (an unknown action, a missing or unknown role, an empty
// selection, more than MaxBulk members) and changes nothing.
func (s *Service) ApplyBulk(ctx context.Context, actor Actor, account equipe.ID, b Bulk) (BulkResult, error) {
	return s.bulk(ctx, actor, account, b, false)
}

func (s *Service) bulk(ctx context.Context, actor Actor, account equipe.ID, b Bulk, dry bool) (BulkResult, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.manage"); err != nil {
		return BulkResult{}, err
	}
	targets, err := s.bulkTargets(ctx, actor, account, &b)
	if err != nil {
		return BulkResult{}, err
	}
	if dry {
		ctx = rehearsing(ctx)
	}
	out := BulkResult{Action: b.Action, Role: b.Role, Outcomes: targets}
	for i := range out.Outcomes {
		o := &out.Outcomes[i]
		err := s.bulkOne(ctx, actor, account, b, o.User)
		if dry && errors.Is(err, errRehearsed) {
			err = nil
		}
		if err := ctx.Err(); err != nil {
			// The request is gone: what is done stays done, the rest is not
			// attempted.
			return BulkResult{}, err
		}
		if err != nil {
			o.Err = equipe.AsError(err)
			if !isRefusal(err) && o.Err.Code != equipe.ERATELIMITED && o.Err.Code != equipe.ENOTFOUND {
				// A fault is one member's: their unit rolled back, and the
				// others go on.
				s.Log.Error("bulk action failed for a member", "action", b.Action, "account", account, "user", o.User, "err", err)
				o.Err = &equipe.Error{Code: equipe.EINTERNAL, Key: "error.internal"}
			}
			if o.Err.Code == equipe.ERATELIMITED {
				o.Until = s.now().Add(o.Err.RetryAfter)
			}
			out.Skipped++
			continue
		}
		out.Done++
	}
	return out, nil
}

// bulkOne takes the bulk action on one member through its single-member use
// case, which judges it with the member's rules.
func (s *Service) bulkOne(ctx context.Context, actor Actor, account equipe.ID, b Bulk, user equipe.ID) error {
	var err error
	switch b.Action {
	case BulkReinvite:
		_, err = s.Invite(ctx, actor, account, user)
	case BulkChangeRole:
		var m equipe.Member
		m, err = s.DB.Member(ctx, account, user)
		if err == nil && m.Role == b.Role {
			// ChangeMember would change nothing and say nothing: the member
			// is skipped, with the reason.
			return conflict("bulk.same_role", nil)
		}
		if err == nil {
			_, err = s.ChangeMember(ctx, actor, account, user, MemberChange{Role: &b.Role})
		}
	case BulkSuspend:
		_, err = s.Suspend(ctx, actor, account, user)
	case BulkReactivate:
		_, err = s.Reactivate(ctx, actor, account, user)
	case BulkRemove:
		err = s.RemoveMember(ctx, actor, account, user)
	}
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		// Removed meanwhile.
		return notFound()
	}
	return err
}

// bulkTargets checks the request and returns its members, in order, with
// the names the account shows them under.
func (s *Service) bulkTargets(ctx context.Context, actor Actor, account equipe.ID, b *Bulk) ([]BulkOutcome, error) {
	var v equipe.Invalid
	if !slices.Contains(BulkActions, b.Action) {
		v.Add("action", "bulk.action_unknown")
	}
	if b.Action == BulkChangeRole {
		if b.Role == "" {
			v.Add("role", "bulk.role_required")
		} else if _, found, err := s.resolveRole(ctx, s.DB.Queries, account, b.Role); err != nil {
			return nil, err
		} else if !found {
			v.Add("role", "role.unknown")
		}
	}
	switch {
	case b.Filter != nil && len(b.Users) > 0:
		v.Add("users", "bulk.selection_both")
	case b.Filter == nil && len(b.Users) == 0:
		v.Add("users", "bulk.selection_empty")
	case len(b.Users) > MaxBulk:
		v.AddArgs("users", "bulk.too_many", map[string]any{"max": MaxBulk})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if b.Filter != nil {
		return s.bulkMatching(ctx, actor, account, *b.Filter)
	}
	seen := make(map[equipe.ID]bool, len(b.Users))
	out := make([]BulkOutcome, 0, len(b.Users))
	for _, id := range b.Users {
		if seen[id] {
			continue
		}
		seen[id] = true
		o := BulkOutcome{User: id}
		_, u, _, err := s.Member(ctx, actor, account, id)
		switch equipe.ErrorCode(err) {
		case "":
			// Member gives the names the account shows them under.
			o.FirstName, o.LastName, o.Email = u.FirstName, u.LastName, u.Email
		case equipe.ENOTFOUND:
			// Reported as skipped when the action reaches them.
		default:
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// bulkMatching returns every member the filter selects, as the team page
// and its export select them (a firm's staff assigned to one of its
// clients too), refusing a filter that can select nothing (its fields named
// filter.…) and a selection of more than MaxBulk.
func (s *Service) bulkMatching(ctx context.Context, actor Actor, account equipe.ID, f MemberFilter) ([]BulkOutcome, error) {
	f.Account, f.After, f.Limit = account, "", MaxMemberPage
	if err := s.checkMemberFilter(ctx, actor, f, false); err != nil {
		var v equipe.Invalid
		if v.AddWithin("filter", err) {
			return nil, v.Err()
		}
		return nil, err
	}
	var out []BulkOutcome
	sf := f.store()
	for {
		rows, next, err := s.DB.ListMembers(ctx, sf)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, BulkOutcome{User: r.Member.UserID, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email})
		}
		if len(out) > MaxBulk {
			return nil, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: "filter",
				Key: "bulk.too_many", Args: map[string]any{"max": MaxBulk}}}}
		}
		if next == "" {
			break
		}
		sf.After = next
	}
	if len(out) == 0 {
		return nil, fieldError("filter", "bulk.selection_empty")
	}
	return out, nil
}

// errRehearsed ends a rehearsed unit of work: it did everything it would
// have done, and is rolled back.
var errRehearsed = errors.New("rehearsed")

type rehearsalKey struct{}

// rehearsing marks ctx so that every unit of work the use cases run with it
// is rehearsed: run to its end, then rolled back with errRehearsed. It lets
// a dry run take the very path the change takes, rules, throttles and all,
// without a second copy of any rule.
func rehearsing(ctx context.Context) context.Context {
	return context.WithValue(ctx, rehearsalKey{}, true)
}

// rehearsed wraps fn so that, under rehearsing, its unit of work is rolled
// back once fn succeeds.
func rehearsed(ctx context.Context, fn func(u *work.Unit) error) func(u *work.Unit) error {
	if ctx.Value(rehearsalKey{}) == nil {
		return fn
	}
	return func(u *work.Unit) error {
		if err := fn(u); err != nil {
			return err
		}
		return errRehearsed
	}
}
