package team

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/webhook"
	"github.com/equipe-dev/equipe/work"
)

// Service runs the team use cases.
type Service struct {
	DB        *store.DB
	Work      *work.Runner // every change is a unit of work; its clock is the service's
	Catalogue *access.Catalogue
	// LinkValidity is how long the link of an email made from a template
	// works, 0 for none (identity.Config.LinkValidity): an administrator's
	// password-reset link, and what the emails' previews say.
	LinkValidity func(template string) time.Duration
	// AddsPerHour bounds the members an account adds in an hour, whether or
	// not an email goes out (default 500).
	AddsPerHour int
	// TimeZone is the IANA name of the zone of accounts that chose none
	// ("" for UTC).
	TimeZone string
	// KeyPrefix starts the secrets of the API keys made from now on (the
	// brand's, checked by equipe.CheckKeyPrefix); KeyPrefix when empty.
	// Keys made under any earlier prefix stay valid.
	KeyPrefix string
	Log       *slog.Logger
	// Secrets seals the webhook endpoints' signing secrets (the instance's
	// secret key).
	Secrets *identity.Keyring
	// WebhookRules say where webhook endpoints may point.
	WebhookRules webhook.Rules

	// brand is the brand in force and the configured one (StartBrand).
	brand    *brandState
	cache    *cache
	signIn   *signInLists // the people's accounts for OpenID Connect tokens
	security securityLimiter
	signal   signal         // wakes the change stream's readers
	keyUses  sync.WaitGroup // recordKeyUse's writes in flight
	checks   *checkCounts
	// imports wakes RunImports when an import starts.
	imports chan struct{}
	// ImportsRan, when set, is called after each pass of RunImports over
	// the imports to take up, so that a test waits for an import's end
	// instead of polling.
	ImportsRan func()
}

// New returns a Service whose cache follows the store's changes.
func New(w *work.Runner, cat *access.Catalogue, links func(template string) time.Duration) *Service {
	s := &Service{DB: w.DB, Work: w, Catalogue: cat, LinkValidity: links, AddsPerHour: addsPerAccount,
		Log: slog.New(slog.DiscardHandler), Secrets: identity.NewRandomKeyring(), cache: newCache(), signIn: newSignInLists(), checks: newCheckCounts(),
		imports: make(chan struct{}, 1)}
	s.cache.watch(w.DB)
	w.DB.OnChange(s.signIn.invalidate)
	w.DB.OnChange(s.signal.hear)
	return s
}

// now returns the time by the service's clock.
func (s *Service) now() time.Time { return s.Work.Now() }

// Actor is who asks for a change or a check: a logged-in user, or a program
// with an API key.
type Actor struct {
	User *equipe.User   // a session's user
	Key  *equipe.APIKey // an API key (account or instance)
	IP   string
	// Operator is whoever runs equipe's commands on the server (equipe
	// import-members): they act for the instance, and events record them
	// as the system.
	Operator bool
}

// instance reports whether the actor acts for the whole instance: an
// instance API key, or an instance administrator's session.
func (a Actor) instance() bool {
	return a.Operator || (a.Key != nil && a.Key.AccountID == nil) || (a.User != nil && a.User.InstanceAdmin)
}

// userID is the actor's user, nil for a key.
func (a Actor) userID() *equipe.ID {
	if a.User != nil && a.Key == nil {
		id := a.User.ID
		return &id
	}
	return nil
}

// is reports whether the actor is the user id in person.
func (a Actor) is(id equipe.ID) bool { return a.User != nil && a.Key == nil && a.User.ID == id }

// recorded is the actor as change events record them.
func (a Actor) recorded() event.Actor {
	switch {
	case a.Key != nil:
		return event.ByKey(a.Key)
	case a.User != nil:
		return event.ByUser(a.User.ID)
	}
	return event.System
}

// name is how emails name the actor: the person, or the account for a key.
func (a Actor) name(acct equipe.Account) string {
	if a.User != nil && a.Key == nil {
		return a.User.Name()
	}
	return acct.Name
}

// personID is the actor's identity when the actor is a person, else zero.
func (a Actor) personID() equipe.ID {
	if a.User != nil && a.Key == nil {
		return a.User.ID
	}
	return equipe.ID{}
}

// personName is the actor's name when the actor is a person, else "".
func (a Actor) personName() string {
	if a.User != nil && a.Key == nil {
		return a.User.Name()
	}
	return ""
}

// do runs fn as one unit of work on behalf of the actor; under a dry run
// (rehearsing), the unit is rolled back once fn succeeds. In a unit joined
// (joining), fn runs in that unit instead, which commits or rolls back as
// its owner decides.
func (s *Service) do(ctx context.Context, actor Actor, fn func(u *work.Unit) error) error {
	if j, ok := ctx.Value(joinedKey{}).(*joinedUnit); ok {
		return fn(j.u)
	}
	return s.Work.Do(ctx, actor.recorded(), equipe.Origin{IP: actor.IP}, rehearsed(ctx, fn))
}

type joinedKey struct{}

// joinedUnit is a unit that use cases join (see joining), with what they
// read alike and change in no way, read once for the unit.
type joinedUnit struct {
	u         *work.Unit
	accounts  map[equipe.ID]equipe.Account
	resources map[equipe.ID][]equipe.Resource
	// locked: the accounts whose active administrators the unit locked.
	locked map[equipe.ID]bool
	// looked holds the users an import looked up by address key before
	// adding them (importRow), for AddMember to take rather than read
	// again.
	looked map[string]lookedUp
	// members holds, once an import looked up its batch (lookUpBatch), the
	// account's members among the batch's users; prefetched says it did.
	members    map[equipe.ID]equipe.Member
	prefetched bool
	// assigned holds the resources of the members added in the unit, for
	// the invitation that follows to take rather than read them again.
	assigned map[equipe.ID][]equipe.ID
	// rights holds, in an import's unit, the actor's rights in an account
	// as current read them under the administrators' lock, by account and
	// permission (see currentIn).
	rights map[string]*access.Member
}

// lookedUp is a user looked up by address key: found, or the error
// (ENOTFOUND for nobody).
type lookedUp struct {
	user equipe.User
	err  error
}

// joining marks ctx so that the use cases run with it do their work in the
// unit u rather than in units of their own: an import applies a batch of
// rows through AddMember, ChangeMember and Invite, rules and all, in one
// transaction (one commit, one write to disk, one notice of the changes)
// instead of one per row. The actor of the use cases must be u's. Only
// use cases that change members may join: the account's own record and its
// resources are read once for the unit (accountIn, resourcesIn).
func joining(ctx context.Context, u *work.Unit) context.Context {
	return context.WithValue(ctx, joinedKey{}, &joinedUnit{u: u, accounts: map[equipe.ID]equipe.Account{},
		resources: map[equipe.ID][]equipe.Resource{}, locked: map[equipe.ID]bool{}, looked: map[string]lookedUp{},
		assigned: map[equipe.ID][]equipe.ID{}, rights: map[string]*access.Member{}})
}

// lockAdmins locks the account's active administrators in the unit u (see
// LockActiveAdmins) for a use case that needs the lock and not the list:
// in a joined unit, once for the unit, the lock being held until it ends.
// It saves a statement per member an import adds.
func (s *Service) lockAdmins(ctx context.Context, u *work.Unit, account equipe.ID) error {
	j, _ := ctx.Value(joinedKey{}).(*joinedUnit)
	if j != nil && j.locked[account] {
		return nil
	}
	if _, err := u.LockActiveAdmins(ctx, account); err != nil {
		return err
	}
	if j != nil {
		j.locked[account] = true
	}
	return nil
}

// undone tells the joined unit of ctx that its writes since a savepoint
// were undone: the locks taken since went with them.
func undone(ctx context.Context) {
	if j, _ := ctx.Value(joinedKey{}).(*joinedUnit); j != nil {
		clear(j.locked)
		clear(j.rights)
	}
}

// userByEmailKey reads the user with the address key with q. In a joined
// unit, importRow's look-up is kept for the AddMember that follows it
// (rememberUser), which takes it instead of reading it again: it saves a
// statement per member an import adds. Returns ENOTFOUND for nobody.
func (s *Service) userByEmailKey(ctx context.Context, q store.Queries, key string) (equipe.User, error) {
	if j, _ := ctx.Value(joinedKey{}).(*joinedUnit); j != nil {
		if l, ok := j.looked[key]; ok {
			delete(j.looked, key)
			return l.user, l.err
		}
	}
	return q.UserByEmailKey(ctx, key)
}

// rememberUser keeps, in a joined unit, a look-up of the address key for
// the next userByEmailKey.
func rememberUser(ctx context.Context, key string, u equipe.User, err error) {
	if j, _ := ctx.Value(joinedKey{}).(*joinedUnit); j != nil {
		j.looked[key] = lookedUp{user: u, err: err}
	}
}

// currentIn is current, read once for an import's unit: no other unit can
// change the actor's rights while this one holds the administrators' lock
// (lockAdmins), and a row of the import that changes a member forgets
// them (forgetRights). It saves two or three statements per member an
// account's administrator imports, and lets the unit's deferred writes wait
// (see store.Tx.Defer).
func (s *Service) currentIn(ctx context.Context, u *work.Unit, actor Actor, account equipe.ID, am *access.Member, a *access.Account, permission string) (*access.Member, error) {
	j, _ := ctx.Value(joinedKey{}).(*joinedUnit)
	if j == nil || !isImporting(ctx) || !j.locked[account] {
		return s.current(ctx, u.Tx, actor, account, am, a, permission)
	}
	key := account.String() + " " + permission
	if m, ok := j.rights[key]; ok {
		return m, nil
	}
	m, err := s.current(ctx, u.Tx, actor, account, am, a, permission)
	if err == nil {
		j.rights[key] = m
	}
	return m, err
}

// forgetRights makes an import's unit read the actor's rights again: a row
// changed a member, maybe the actor.
func forgetRights(ctx context.Context) {
	if j, _ := ctx.Value(joinedKey{}).(*joinedUnit); j != nil {
		clear(j.rights)
	}
}

// rememberResources keeps, in an import's unit, the resources just
// assigned to a member it added (none: nil), for memberResourcesIn: an
// import's rows each concern their own member, so nothing changes them
// before its invitation reads them.
func rememberResources(ctx context.Context, user equipe.ID, ids []equipe.ID) {
	if j, _ := ctx.Value(joinedKey{}).(*joinedUnit); j != nil && isImporting(ctx) {
		var held []equipe.ID
		for _, id := range ids {
			if !slices.Contains(held, id) {
				held = append(held, id)
			}
		}
		// In the order MemberResources reads them.
		slices.SortFunc(held, func(a, b equipe.ID) int { return bytes.Compare(a[:], b[:]) })
		j.assigned[user] = held
	}
}

// memberResourcesIn reads the member's resources in the unit u, or in a
// joined unit takes those of a member just added (rememberResources): it
// saves a statement per member an import invites, and lets the unit's
// deferred writes wait (see store.Tx.Defer).
func memberResourcesIn(ctx context.Context, u *work.Unit, account, user equipe.ID) ([]equipe.ID, error) {
	if j, _ := ctx.Value(joinedKey{}).(*joinedUnit); j != nil {
		if ids, ok := j.assigned[user]; ok {
			return ids, nil
		}
	}
	return u.MemberResources(ctx, account, user)
}

// accountIn reads the account with q, or in a joined unit once for the
// unit: it saves a statement per row of an import.
func (s *Service) accountIn(ctx context.Context, q store.Queries, id equipe.ID) (equipe.Account, error) {
	j, _ := ctx.Value(joinedKey{}).(*joinedUnit)
	if j != nil {
		if a, ok := j.accounts[id]; ok {
			return a, nil
		}
	}
	a, err := q.AccountByID(ctx, id)
	if err == nil && j != nil {
		j.accounts[id] = a
	}
	return a, err
}

// resourcesIn reads the account's resources in the unit u, or in a joined
// unit once for the unit: it saves a statement per row of an import.
func (s *Service) resourcesIn(ctx context.Context, u *work.Unit, account equipe.ID) ([]equipe.Resource, error) {
	j, _ := ctx.Value(joinedKey{}).(*joinedUnit)
	if j != nil {
		if rs, ok := j.resources[account]; ok {
			return rs, nil
		}
	}
	rs, err := u.Resources(ctx, account)
	if err == nil && j != nil {
		j.resources[account] = rs
	}
	return rs, err
}

// resolveRole returns the role with key in the account: a built-in role of
// the catalogue, or one of the account's custom roles. A role that exists
// nowhere (removed from the catalogue) grants nothing.
func (s *Service) resolveRole(ctx context.Context, q store.Queries, account equipe.ID, key string) (access.Role, bool, error) {
	if r, ok := s.Catalogue.Role(key); ok {
		return r, true, nil
	}
	cr, err := q.Role(ctx, account, key)
	switch equipe.ErrorCode(err) {
	case "":
		return customRole(cr), true, nil
	case equipe.ENOTFOUND:
		return access.Role{Key: key}, false, nil
	}
	return access.Role{}, false, err
}

// customRole turns a stored custom role into the catalogue's form.
func customRole(cr equipe.CustomRole) access.Role {
	r := access.Role{Key: cr.Key, Label: access.Label{FR: cr.LabelFR, EN: cr.LabelEN}, Restricted: cr.Restricted}
	for _, g := range cr.Grants {
		sc, _ := access.ParseScope(g.Scope)
		r.Grants = append(r.Grants, access.Grant{Permission: g.Permission, Scope: sc})
	}
	return r
}

// overrides turns stored overrides into the catalogue's form.
func overrides(os []equipe.Override) []access.Override {
	out := make([]access.Override, 0, len(os))
	for _, o := range os {
		sc, _ := access.ParseScope(o.Scope)
		out = append(out, access.Override{Permission: o.Permission, Allow: o.Allow, Scope: sc})
	}
	return out
}

// notFound is the answer to anything outside the actor's reach: whether it
// exists is none of their business.
func notFound() error { return equipe.Errorf(equipe.ENOTFOUND, "error.not_found") }

// addGrantError turns a catalogue's complaint about grants or overrides into
// a field error under prefix ("permissions" or "overrides").
func addGrantError(v *equipe.Invalid, prefix string, err error) {
	var ge *access.GrantError
	if !errors.As(err, &ge) {
		v.Add(prefix, "role.permission_unknown")
		return
	}
	key := "role.scope_not_accepted"
	switch {
	case errors.Is(err, access.ErrUnknownPermission):
		key = "role.permission_unknown"
	case errors.Is(err, access.ErrDuplicateGrant):
		key = "role.permission_duplicate"
	case errors.Is(err, access.ErrScopeOnDenial):
		key = "role.scope_on_denial"
	}
	v.Add(prefix+"."+ge.Permission, key)
}

// forbidden is the answer to an actor who may see the thing but not do this.
func forbidden(key string, args map[string]any) error {
	return &equipe.Error{Code: equipe.EFORBIDDEN, Key: key, Args: args}
}

// missingRefusal is the refusal key (role.beyond_own, member.outranks) of
// a granting rule that found missing what the catalogue's comparisons list
// (access.Catalogue.Covers…): missing as they list it, for programs, and
// missing_fr and missing_en naming it as people read it
// (access.Catalogue.GrantNames), for every message that shows it.
func (s *Service) missingRefusal(key string, missing []string) error {
	names := s.Catalogue.GrantNames(missing)
	return forbidden(key, map[string]any{"missing": strings.Join(missing, ", "), "missing_fr": names.FR, "missing_en": names.EN})
}

// conflict is the answer to an action the thing's state does not allow.
func conflict(key string, args map[string]any) error {
	return &equipe.Error{Code: equipe.ECONFLICT, Key: key, Args: args}
}

// fieldError is an EINVALID error about one field.
func fieldError(field, key string) error {
	return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields", Fields: []equipe.FieldError{{Field: field, Key: key}}}
}

// Together runs fn with a context in which the use cases that change
// members (AddMember, ChangeMember, Invite, and the others an import runs)
// do their work in one unit of work for actor: every change fn makes with
// that context commits together, with its events, or none does when fn
// answers an error. The rules are each use case's, judged in the unit, so
// that a later change sees the earlier ones (the last administrator, the
// granting rules). Reads through other use cases see what is committed
// only. A protocol that sends several changes in one request (a SCIM PATCH
// of a group's members) uses it to keep that request all or nothing.
func (s *Service) Together(ctx context.Context, actor Actor, fn func(ctx context.Context) error) error {
	return s.Work.Do(ctx, actor.recorded(), equipe.Origin{IP: actor.IP}, func(u *work.Unit) error {
		return fn(joining(ctx, u))
	})
}
