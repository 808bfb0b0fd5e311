package team

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Actions on a resource, in the order pages offer them.
const (
	ResourceEdit    = "edit"    // rename it, change its external ID
	ResourceArchive = "archive" // take it out of use, keeping its assignments
	ResourceRestore = "restore" // put an archived resource back in use
)

// ResourceActionNames lists the actions on a resource, in order.
var ResourceActionNames = []string{ResourceEdit, ResourceArchive, ResourceRestore}

// maxExternalID bounds a resource's external ID.
const maxExternalID = 200

// ResourceMember is a member assigned to a resource, under the names the
// account shows them.
type ResourceMember struct {
	UserID    equipe.ID
	FirstName string
	LastName  string
	Email     string
	Status    equipe.MemberStatus
}

// ResourceView is a resource with the members assigned to it and what the
// reader may do with it.
type ResourceView struct {
	equipe.Resource
	Members []ResourceMember
	Actions Actions
}

// ResourceFilter selects an account's resources.
type ResourceFilter struct {
	Type     string // a resource type's key; "" for every type
	Archived *bool  // only archived (true) or only in use (false); nil for both
}

// ResourceList returns a page of the account's resources that f selects
// (the whole list for the whole page), by type and name, each with its
// assigned members and the actions the actor may take on it, and the
// cursor of the next page ("" after the last). The actor must be able to
// view the account's members.
func (s *Service) ResourceList(ctx context.Context, actor Actor, account equipe.ID, f ResourceFilter, p equipe.Page) ([]ResourceView, string, error) {
	m, a, err := s.authorize(ctx, actor, account, "members.view")
	if err != nil {
		return nil, "", err
	}
	if f.Type != "" {
		if _, ok := s.Catalogue.ResourceType(f.Type); !ok {
			return nil, "", fieldError("type", "resource.type_unknown")
		}
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	rs, next, err := s.DB.ResourcePage(ctx, store.ResourceFilter{Account: account, Type: f.Type, Archived: f.Archived}, p)
	if err != nil {
		return nil, "", err
	}
	// A page reads the assignments of its resources; a whole list, all of
	// the account's at once.
	var ids []equipe.ID
	if !p.Whole() {
		ids = make([]equipe.ID, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
	}
	assigned, err := s.DB.MembersOfResources(ctx, account, ids)
	if err != nil {
		return nil, "", err
	}
	by := map[equipe.ID][]ResourceMember{}
	for _, rm := range assigned {
		by[rm.Resource] = append(by[rm.Resource], resourceMember(rm))
	}
	out := make([]ResourceView, 0, len(rs))
	for _, r := range rs {
		out = append(out, s.viewResource(m, a, r, by[r.ID]))
	}
	return out, next, nil
}

// Resource returns one resource of the account with its assigned members
// and the actions the actor may take on it. The actor must be able to view
// the account's members.
func (s *Service) Resource(ctx context.Context, actor Actor, account, id equipe.ID) (ResourceView, error) {
	m, a, err := s.authorize(ctx, actor, account, "members.view")
	if err != nil {
		return ResourceView{}, err
	}
	r, err := s.DB.Resource(ctx, account, id)
	if err != nil {
		return ResourceView{}, err
	}
	assigned, err := s.DB.ResourceMembers(ctx, account, &id)
	if err != nil {
		return ResourceView{}, err
	}
	var ms []ResourceMember
	for _, rm := range assigned {
		ms = append(ms, resourceMember(rm))
	}
	return s.viewResource(m, a, r, ms), nil
}

func resourceMember(rm store.ResourceMember) ResourceMember {
	return ResourceMember{UserID: rm.UserID, FirstName: rm.FirstName, LastName: rm.LastName, Email: rm.Email, Status: rm.Status}
}

func (s *Service) viewResource(m *access.Member, a *access.Account, r equipe.Resource, ms []ResourceMember) ResourceView {
	if ms == nil {
		ms = []ResourceMember{}
	}
	acts := make(Actions, 0, len(ResourceActionNames))
	for _, name := range ResourceActionNames {
		acts = append(acts, ActionAnswer{Name: name, Allowed: allowed(s.resourceRule(m, a, r, name))})
	}
	return ResourceView{Resource: r, Members: ms, Actions: acts}
}

// resourceRule returns the refusal of the action on the resource r by the
// reader m, or nil. It is the one rule both for offering an action (the
// resources page, the API's actions) and for taking it (on the resource as
// it stands in the unit of work):
//
//   - the reader needs resources.manage;
//   - a reader limited to the resources assigned to them acts only on those;
//   - only a resource in use is archived, only an archived one restored.
func (s *Service) resourceRule(m *access.Member, a *access.Account, r equipe.Resource, action string) error {
	if err := s.permission(m, a, "resources.manage"); err != nil {
		return err
	}
	if m.LimitedToAssigned() && !m.Assigned(r.ID) {
		return forbidden("resource.not_assigned", nil)
	}
	switch action {
	case ResourceArchive:
		if r.Archived() {
			return conflict("resource.already_archived", nil)
		}
	case ResourceRestore:
		if !r.Archived() {
			return conflict("resource.not_archived", nil)
		}
	}
	return nil
}

// checkResourceName validates a resource's name and external ID, adding
// their problems to v, and returns them trimmed.
func checkResourceName(v *equipe.Invalid, name, externalID string) (string, string) {
	return identity.CheckName(v, "name", name), checkExternalID(v, externalID)
}

// checkExternalID validates the identifier a vendor gives a resource in its
// own system: optional, at most maxExternalID characters of valid text.
func checkExternalID(v *equipe.Invalid, id string) string {
	id = strings.TrimSpace(id)
	switch {
	case !utf8.ValidString(id):
		v.Add("external_id", "name.invalid")
	case utf8.RuneCountInString(id) > maxExternalID:
		v.AddArgs("external_id", "name.too_long", map[string]any{"max": maxExternalID})
	}
	return id
}

// nameTaken returns the refusal of a name that another resource of the same
// type in the account already has, compared as the store does (case and
// accents aside), archived resources included: restoring one never makes
// two of a name.
func nameTaken(ctx context.Context, u *work.Unit, r equipe.Resource) error {
	all, err := u.Resources(ctx, r.AccountID)
	if err != nil {
		return err
	}
	key := store.Fold(r.Name)
	for _, o := range all {
		if o.ID != r.ID && o.Type == r.Type && store.Fold(o.Name) == key {
			return &equipe.Error{Code: equipe.ECONFLICT, Key: "resource.name_taken",
				Fields: []equipe.FieldError{{Field: "name", Key: "resource.name_taken"}}}
		}
	}
	return nil
}

// CreateResource adds a resource (a location, a product…) of a type the
// catalogue declares to the account (resources.manage). Names are unique
// within a type in the account, case and accents aside: a name taken
// answers ECONFLICT "resource.name_taken".
func (s *Service) CreateResource(ctx context.Context, actor Actor, account equipe.ID, typ, name, externalID string) (equipe.Resource, error) {
	if _, _, err := s.authorize(ctx, actor, account, "resources.manage"); err != nil {
		return equipe.Resource{}, err
	}
	var v equipe.Invalid
	if _, ok := s.Catalogue.ResourceType(typ); !ok {
		v.Add("type", "resource.type_unknown")
	}
	name, externalID = checkResourceName(&v, name, externalID)
	if err := v.Err(); err != nil {
		return equipe.Resource{}, err
	}
	r := equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: typ, Name: name, ExternalID: externalID}
	err := s.do(ctx, actor, func(u *work.Unit) error {
		r.CreatedAt = u.Now()
		if err := nameTaken(ctx, u, r); err != nil {
			return err
		}
		if err := u.CreateResource(ctx, &r); err != nil {
			return err
		}
		after := event.ResourceOf(r)
		return u.Record(ctx, event.ResourceCreated.In(account, r.ID.String(), nil, &after))
	})
	return r, err
}

// ResourceChange is a change to a resource: each field given (non-nil) is
// set. The type stays: a location does not become a product.
type ResourceChange struct {
	Name       *string
	ExternalID *string
}

// ChangeResource renames a resource or changes its external ID
// (resources.manage, see resourceRule), an archived one too. A change that
// changes nothing records nothing.
func (s *Service) ChangeResource(ctx context.Context, actor Actor, account, id equipe.ID, ch ResourceChange) (equipe.Resource, error) {
	var v equipe.Invalid
	var name, ext string
	if ch.Name != nil {
		name = identity.CheckName(&v, "name", *ch.Name)
	}
	if ch.ExternalID != nil {
		ext = checkExternalID(&v, *ch.ExternalID)
	}
	if err := v.Err(); err != nil {
		return equipe.Resource{}, err
	}
	return s.onResource(ctx, actor, account, id, ResourceEdit, func(u *work.Unit, before equipe.Resource) (equipe.Resource, error) {
		after := before
		if ch.Name != nil {
			after.Name = name
		}
		if ch.ExternalID != nil {
			after.ExternalID = ext
		}
		if after.Name == before.Name && after.ExternalID == before.ExternalID {
			return after, nil
		}
		if after.Name != before.Name {
			if err := nameTaken(ctx, u, after); err != nil {
				return after, err
			}
		}
		if err := u.UpdateResource(ctx, &after); err != nil {
			return after, err
		}
		b, a := event.ResourceOf(before), event.ResourceOf(after)
		return after, u.Record(ctx, event.ResourceChanged.In(account, id.String(), &b, &a))
	})
}

// ArchiveResource takes a resource out of use (resources.manage, see
// resourceRule): its assignments and history stay, it is offered for no
// new assignment, and every check on it is denied with
// access.DeniedResourceArchived, in every process at once.
func (s *Service) ArchiveResource(ctx context.Context, actor Actor, account, id equipe.ID) (equipe.Resource, error) {
	return s.onResource(ctx, actor, account, id, ResourceArchive, func(u *work.Unit, before equipe.Resource) (equipe.Resource, error) {
		after := before
		after.ArchivedAt = u.Now()
		if err := u.SetResourceArchived(ctx, account, id, after.ArchivedAt); err != nil {
			return after, err
		}
		b, a := event.ResourceOf(before), event.ResourceOf(after)
		return after, u.Record(ctx, event.ResourceArchived.In(account, id.String(), &b, &a))
	})
}

// RestoreResource puts an archived resource back in use, with the
// assignments it kept (resources.manage, see resourceRule).
func (s *Service) RestoreResource(ctx context.Context, actor Actor, account, id equipe.ID) (equipe.Resource, error) {
	return s.onResource(ctx, actor, account, id, ResourceRestore, func(u *work.Unit, before equipe.Resource) (equipe.Resource, error) {
		after := before
		after.ArchivedAt = time.Time{}
		if err := u.SetResourceArchived(ctx, account, id, after.ArchivedAt); err != nil {
			return after, err
		}
		b, a := event.ResourceOf(before), event.ResourceOf(after)
		return after, u.Record(ctx, event.ResourceRestored.In(account, id.String(), &b, &a))
	})
}

// onResource runs fn in a unit of work on the resource as it stands, once
// resourceRule allows the action on it.
func (s *Service) onResource(ctx context.Context, actor Actor, account, id equipe.ID, action string,
	fn func(u *work.Unit, before equipe.Resource) (equipe.Resource, error)) (equipe.Resource, error) {
	m, a, err := s.authorize(ctx, actor, account, "resources.manage")
	if err != nil {
		return equipe.Resource{}, err
	}
	var out equipe.Resource
	err = s.do(ctx, actor, func(u *work.Unit) error {
		before, err := u.Resource(ctx, account, id)
		if err != nil {
			return err
		}
		if err := s.resourceRule(m, a, before, action); err != nil {
			return err
		}
		out, err = fn(u, before)
		return err
	})
	return out, err
}

// activeResources returns the resources in use among rs.
func activeResources(rs []equipe.Resource) []equipe.Resource {
	out := make([]equipe.Resource, 0, len(rs))
	for _, r := range rs {
		if !r.Archived() {
			out = append(out, r)
		}
	}
	return out
}

// newlyArchived returns the refusal of an assignment of an archived
// resource of all among ids that before did not hold, or nil: an archived
// resource is offered for no new assignment, and one a member kept stays.
func newlyArchived(all []equipe.Resource, ids, before []equipe.ID) error {
	held := map[equipe.ID]bool{}
	for _, id := range before {
		held[id] = true
	}
	archived := map[equipe.ID]bool{}
	for _, r := range all {
		if r.Archived() {
			archived[r.ID] = true
		}
	}
	for i, id := range ids {
		if archived[id] && !held[id] {
			return &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
				Fields: []equipe.FieldError{{Field: "resources[" + strconv.Itoa(i) + "]", Key: "resource.archived"}}}
		}
	}
	return nil
}
