package authzen

import (
	"github.com/google/uuid"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/internal/plainjson"
	"github.com/equipe-dev/equipe/team"
)

// The evaluation endpoint is the hot loop of a policy enforcement point, as
// the check API is the vendor backend's: decoding its request through
// reflection (a dozen allocations of pointers and strings) cost more than
// the decision. plainQuestion reads the usual form of the request directly
// and leaves everything else to evaluationOf's reading of the decoded
// entities, which stays the authority on what is accepted, on every error,
// and on every form (external IDs, emails, id_type, unknown members).

// plainEvaluation is an evaluation in its plain form, as slices of the body.
type plainEvaluation struct {
	subType, subID             []byte
	action                     []byte
	resType, resID             []byte
	owner                      []byte
	ownerPresent, ownerNull    bool
	resAccount, ctxAccount     []byte
	hasSubject, hasAction      bool
	hasResource, hasResourceID bool
}

// plainQuestion reads body in the plain form: the members subject {type,
// id}, action {name}, resource {type, id, properties {ownerID, account_id}}
// and context {account_id}, each at most once, string values of printable
// ASCII without escapes (ownerID may be null), a user's ID and an owner's
// as UUIDs, nothing else. It reports false for anything else; the caller
// then decodes the body. For a body it accepts, the question is the one
// evaluationOf would make of the decoded request.
func (s *Service) plainQuestion(body []byte, caller team.Actor) (team.CheckQuery, bool) {
	var e plainEvaluation
	p := plainjson.Parser{B: body}
	var seen uint8
	once := func(bit uint8) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	ok := p.Object(func(name []byte) bool {
		switch string(name) {
		case "subject":
			e.hasSubject = once(1)
			var in uint8
			return e.hasSubject && p.Object(func(n []byte) bool {
				var ok bool
				switch string(n) {
				case "type":
					e.subType, ok = p.Str()
					return ok && onceIn(&in, 1)
				case "id":
					e.subID, ok = p.Str()
					return ok && onceIn(&in, 2)
				}
				return false
			})
		case "action":
			e.hasAction = once(2)
			var in uint8
			return e.hasAction && p.Object(func(n []byte) bool {
				if string(n) != "name" || !onceIn(&in, 1) {
					return false
				}
				var ok bool
				e.action, ok = p.Str()
				return ok
			})
		case "resource":
			e.hasResource = once(4)
			var in uint8
			return e.hasResource && p.Object(func(n []byte) bool {
				var ok bool
				switch string(n) {
				case "type":
					e.resType, ok = p.Str()
					return ok && onceIn(&in, 1)
				case "id":
					e.resID, ok = p.Str()
					e.hasResourceID = ok
					return ok && onceIn(&in, 2)
				case "properties":
					var inp uint8
					return onceIn(&in, 4) && p.Object(func(n []byte) bool {
						var ok bool
						switch string(n) {
						case "ownerID":
							e.ownerPresent = true
							if p.Null() {
								e.ownerNull = true
								return onceIn(&inp, 1)
							}
							e.owner, ok = p.Str()
							return ok && onceIn(&inp, 1)
						case "account_id":
							e.resAccount, ok = p.Str()
							return ok && onceIn(&inp, 2)
						}
						return false
					})
				}
				return false
			})
		case "context":
			if !once(8) {
				return false
			}
			var in uint8
			return p.Object(func(n []byte) bool {
				if string(n) != "account_id" || !onceIn(&in, 1) {
					return false
				}
				var ok bool
				e.ctxAccount, ok = p.Str()
				return ok
			})
		}
		return false
	})
	if !ok || !p.End() || !e.hasSubject || !e.hasAction || !e.hasResource || e.subType == nil || e.subID == nil ||
		e.action == nil || e.resType == nil || !e.hasResourceID || string(e.subType) != SubjectUser {
		return team.CheckQuery{}, false
	}
	var q team.CheckQuery
	var good bool
	if q.User, good = plainID(e.subID); !good {
		return q, false
	}
	account := e.ctxAccount
	if account == nil {
		account = e.resAccount
	}
	if string(e.resType) == ResourceAccount {
		if account != nil && string(account) != string(e.resID) {
			return q, false // evaluationOf tells another account apart
		}
		account = e.resID
	}
	switch {
	case account != nil:
		if q.Account, good = plainID(account); !good {
			return q, false
		}
	case caller.Key != nil && caller.Key.AccountID != nil:
		q.Account = *caller.Key.AccountID
	default:
		return q, false
	}
	if q.Permission, good = s.Catalogue.ActionPermissionBytes(e.action); !good {
		return q, false
	}
	record := false
	if string(e.resType) != ResourceAccount {
		if record = !s.Catalogue.DeclaresTypeBytes(e.resType); !record {
			if q.Query.Resource, good = plainID(e.resID); !good {
				return q, false
			}
			q.Query.HasResource = true
		}
	}
	switch {
	case record && !e.ownerPresent:
		q.Query.Owner, q.Query.OwnerKnown = ownerUnknown, true
	case e.ownerNull:
		q.Query.Unowned = true
	case e.ownerPresent:
		if q.Query.Owner, good = plainID(e.owner); !good {
			return q, false
		}
		q.Query.OwnerKnown = true
	}
	return q, true
}

// onceIn marks bit in seen, and reports false if it was already.
func onceIn(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// plainID parses equipe's form of an ID from text, without copying it.
func plainID(b []byte) (equipe.ID, bool) {
	if len(b) != 36 {
		return equipe.ID{}, false
	}
	id, err := uuid.ParseBytes(b)
	return id, err == nil
}
