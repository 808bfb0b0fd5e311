package team

import (
	"context"
	"slices"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
)

// PersonKind says who someone an account's log speaks of is to the account
// now.
type PersonKind string

// Who people are to an account.
const (
	PersonMember    PersonKind = "member"     // a member of the account
	PersonFirmStaff PersonKind = "firm_staff" // a member of the account's firm, who acts in it through the firm
	// PersonInstanceAdmin is an instance administrator, who acts in any
	// account.
	PersonInstanceAdmin PersonKind = "instance_admin"
	PersonFormerMember  PersonKind = "former_member" // none of these: someone who left
)

// Person is someone an account's log speaks of, as its reader may know
// them.
type Person struct {
	Kind PersonKind
	// Unnamed: the reader may not know who they are (one of the firm's
	// staff, to the client's own members and keys; an instance
	// administrator, to anyone but the instance; see audience): their ID
	// is not for them to see, nor to filter the log by.
	Unnamed bool
	// User is who they are, under the names the account shows them, for a
	// reader who may view the account's members and know them; zero
	// otherwise, and for an instance administrator or a former member.
	User equipe.User
}

// AuditPerson says who the user is to the account, as the actor reading its
// log may know them: a member, one of the firm's staff, an instance
// administrator, or a former member. The actor needs audit.view; the names
// are given to a reader who may also view the account's members. Someone
// the reader may not know is, by their ID, no one the account knows: a
// former member, as any ID that reaches nothing, so that an ID cannot be
// tried to learn who of the firm or of the instance reaches the account
// (their events say who they are to it, without their ID). Returns
// ENOTFOUND or EFORBIDDEN as AuditPage does.
func (s *Service) AuditPerson(ctx context.Context, actor Actor, account, user equipe.ID) (Person, error) {
	r, err := s.logReader(ctx, actor, account)
	if err != nil {
		return Person{}, err
	}
	p, err := r.person(ctx, user)
	if p.Unnamed {
		return Person{Kind: PersonFormerMember}, err
	}
	return p, err
}

// staffUnnamed reports whether the staff of the account's firm are not
// named to the actor there: the client's own members and API keys learn
// what the firm's staff do and with which role, not who they are. The firm
// decides who of its staff reaches a client, and it stays the firm's to
// know; the firm's staff and the instance know them. Every view of a
// client that speaks of its firm's staff asks this one question (FirmStaff,
// EffectivePermissions, and through audience the audit log, the change
// stream and webhooks).
func (s *Service) staffUnnamed(ctx context.Context, actor Actor, account equipe.ID) (bool, error) {
	return s.ownMemberOf(ctx, actor, account)
}

// audience is who reads an account's log, as far as naming people goes.
// It is the one rule of who is named to whom that every way the log leaves
// the service follows: the audit log and its export, the change stream,
// and webhooks.
type audience struct {
	// staff: the staff of the account's firm are not named to the reader
	// (staffUnnamed).
	staff bool
	// support: the instance's administrators are not named to the reader.
	// Like the firm's staff for a client, the instance's support acts in
	// an account as the instance, not as themselves: the account learns
	// that the instance's support acted, not who; the instance knows them.
	support bool
}

// audienceOf returns what of the account's log the actor reads unnamed.
func (s *Service) audienceOf(ctx context.Context, actor Actor, account equipe.ID) (audience, error) {
	staff, err := s.staffUnnamed(ctx, actor, account)
	return audience{staff: staff, support: !actor.instance()}, err
}

// logReader is what reading an account's log depends on for the actor who
// reads it: who may be named to them.
type logReader struct {
	s       *Service
	account equipe.Account
	aud     audience
	views   bool // the reader may view the account's members
	known   map[equipe.ID]Person
}

// logReader authorizes the actor to read the account's log (audit.view)
// and returns what reading it depends on.
func (s *Service) logReader(ctx context.Context, actor Actor, account equipe.ID) (*logReader, error) {
	m, a, err := s.authorize(ctx, actor, account, "audit.view")
	if err != nil {
		return nil, err
	}
	aud, err := s.audienceOf(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	return s.readerOf(ctx, account, aud, s.permission(m, a, "members.view") == nil)
}

// readerOf returns the reader of the account's log that aud is, given
// names when views.
func (s *Service) readerOf(ctx context.Context, account equipe.ID, aud audience, views bool) (*logReader, error) {
	acct, err := s.DB.AccountByID(ctx, account)
	if err != nil {
		return nil, err
	}
	return &logReader{s: s, account: acct, aud: aud, views: views, known: map[equipe.ID]Person{}}, nil
}

// person says who user is to the account, as the reader may know them.
func (r *logReader) person(ctx context.Context, user equipe.ID) (Person, error) {
	if p, ok := r.known[user]; ok {
		return p, nil
	}
	p, err := r.lookUp(ctx, user)
	if err != nil {
		return Person{}, err
	}
	r.known[user] = p
	return p, nil
}

func (r *logReader) lookUp(ctx context.Context, user equipe.ID) (Person, error) {
	db := r.s.DB
	m, err := db.Member(ctx, r.account.ID, user)
	switch equipe.ErrorCode(err) {
	case "":
		p := Person{Kind: PersonMember}
		if r.views {
			u, err := db.UserByID(ctx, user)
			if err != nil {
				return Person{}, err
			}
			p.User = m.SeenBy(u)
		}
		return p, nil
	case equipe.ENOTFOUND:
	default:
		return Person{}, err
	}
	if r.account.ParentID != nil {
		fm, err := db.Member(ctx, *r.account.ParentID, user)
		switch equipe.ErrorCode(err) {
		case "":
			p := Person{Kind: PersonFirmStaff, Unnamed: r.aud.staff}
			if r.views && !r.aud.staff {
				u, err := db.UserByID(ctx, user)
				if err != nil {
					return Person{}, err
				}
				p.User = fm.SeenBy(u)
			}
			return p, nil
		case equipe.ENOTFOUND:
		default:
			return Person{}, err
		}
	}
	u, err := db.UserByID(ctx, user)
	switch {
	case err == nil && u.InstanceAdmin:
		return Person{Kind: PersonInstanceAdmin, Unnamed: r.aud.support}, nil
	case err == nil, equipe.ErrorCode(err) == equipe.ENOTFOUND:
		return Person{Kind: PersonFormerMember}, nil
	}
	return Person{}, err
}

// seen returns e as the reader may see it: a person who acted through the
// firm or the instance says so (Actor.Via), and one the reader may not
// know (Person.Unnamed) acts with no ID and no address (IP). No state of an account's own log
// names a person its readers might not know (a firm's assignments of its
// staff are in the firm's log), so the actor is all there is to hide.
func (r *logReader) seen(ctx context.Context, e event.Event) (event.Event, error) {
	if e.Actor.ID == nil {
		return e, nil
	}
	switch e.Actor.Kind {
	case event.ActorInstanceKey:
		// The instance's keys are the instance's support, named (by
		// their ID and the name a person gave them) to the instance only.
		e.Actor.Via = event.ViaInstance
		if r.aud.support {
			e.Actor.ID, e.Actor.Name, e.IP = nil, "", ""
		}
		return e, nil
	case event.ActorUser:
	default:
		return e, nil
	}
	p, err := r.person(ctx, *e.Actor.ID)
	if err != nil {
		return e, err
	}
	switch p.Kind {
	case PersonFirmStaff:
		e.Actor.Via = event.ViaFirm
	case PersonInstanceAdmin:
		e.Actor.Via = event.ViaInstance
	}
	if p.Unnamed {
		// Nor by the address their request came from: it would tell them
		// apart, and tie them to whatever else came from it.
		e.Actor.ID, e.IP = nil, ""
	}
	return e, nil
}

// hidesActor reports whether the filter's actor is someone the reader may
// not know, a person or an instance key: no event is theirs, as far as the
// reader may tell.
func (r *logReader) hidesActor(ctx context.Context, f AuditFilter) (bool, error) {
	if f.ActorID == nil || r.aud == (audience{}) {
		return false, nil
	}
	if r.aud.support {
		_, err := r.s.DB.APIKey(ctx, nil, *f.ActorID)
		switch equipe.ErrorCode(err) {
		case "":
			return true, nil // one of the instance's keys
		case equipe.ENOTFOUND:
		default:
			return false, err
		}
	}
	p, err := r.person(ctx, *f.ActorID)
	return p.Unnamed, err
}

// check reports the filter's values that can select nothing: a kind of
// event no account's log records, a subject that is neither an ID nor a
// custom role's key. The fields are named as the API names them.
func (f AuditFilter) check() error {
	var v equipe.Invalid
	if f.Type != "" && !slices.Contains(event.AccountTypes(), f.Type) {
		v.AddArgs("type", "audit.type_unknown", map[string]any{"type": string(f.Type)})
	}
	if f.Subject != "" {
		if _, err := equipe.ParseID(f.Subject); err != nil && (!access.ValidKey(f.Subject) || len(f.Subject) > 40) {
			v.Add("target", "audit.target_invalid")
		}
	}
	return v.Err()
}

// logReaders read the events of several accounts' logs for readers who
// read across them: the change stream's keys and webhook endpoints. Who
// people are to each account is looked up once.
type logReaders struct {
	s  *Service
	by map[readerKey]*logReader
}

type readerKey struct {
	account equipe.ID
	aud     audience
}

func (s *Service) logReaders() *logReaders {
	return &logReaders{s: s, by: map[readerKey]*logReader{}}
}

// seen is logReader.seen for an event of the account's log (or, for an
// event of no account's log that the account hears of, about one of its
// members), read by aud. Only the events of a person or an instance key
// need reading.
func (rs *logReaders) seen(ctx context.Context, account equipe.ID, aud audience, e event.Event) (event.Event, error) {
	if e.Actor.ID == nil {
		return e, nil
	}
	k := readerKey{account, aud}
	r, ok := rs.by[k]
	if !ok {
		var err error
		if r, err = rs.s.readerOf(ctx, account, aud, false); err != nil {
			return e, err
		}
		rs.by[k] = r
	}
	return r.seen(ctx, e)
}
