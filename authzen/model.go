package authzen

import (
	"net/http"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// The protocol's entities, as far as equipe reads them. Members that equipe
// does not read (the properties it does not know, the context's) are
// ignored, as the specification requires of unknown members.

// subject is a Subject: a user of equipe.
type subject struct {
	Type       *string     `json:"type"`
	ID         *string     `json:"id"`
	Properties *subjectOpt `json:"properties"`
}

type subjectOpt struct {
	// IDType says how id names the user: "id" (equipe's), "external_id"
	// or "email"; absent, it is recognised (see userRef).
	IDType *string `json:"id_type"`
}

// resource is a Resource: one of the account's resources (a type the
// catalogue declares), the account itself (type "account"), or one of the
// vendor's own records (any other type).
type resource struct {
	Type       *string      `json:"type"`
	ID         *string      `json:"id"`
	Properties *resourceOpt `json:"properties"`
}

type resourceOpt struct {
	// OwnerID is the record's owner (null: it has none; absent: the
	// question is about the permission in general), named as a subject's
	// id is; OwnerIDType as a subject's id_type.
	OwnerID     optionalText `json:"ownerID"`
	OwnerIDType *string      `json:"owner_id_type"`
	// AccountID is the account the question is about, for an instance
	// key.
	AccountID *string `json:"account_id"`
}

// action is an Action: a permission's key, or a name the catalogue gives
// one.
type action struct {
	Name       *string        `json:"name"`
	Properties jsontext.Value `json:"properties"`
}

// context is the request's Context; equipe reads the account from it.
type context struct {
	AccountID *string `json:"account_id"`
}

// optionalText is a member that may be absent, null, or a string.
type optionalText struct {
	present, null bool
	text          string
}

func (o *optionalText) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	o.present = true
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		o.null = true
	case '"':
		o.text = tok.String()
	default:
		return &wrongType{}
	}
	return nil
}

type wrongType struct{}

func (*wrongType) Error() string { return "not a string" }

// Entities are objects with their own required members.
func (s *subject) check(field string, needID bool) error {
	if s == nil {
		return badRequest("authzen.required", map[string]any{"member": field})
	}
	if s.Type == nil {
		return badRequest("authzen.required", map[string]any{"member": field + ".type"})
	}
	if needID && s.ID == nil {
		return badRequest("authzen.required", map[string]any{"member": field + ".id"})
	}
	return nil
}

func (r *resource) check(field string, needID bool) error {
	if r == nil {
		return badRequest("authzen.required", map[string]any{"member": field})
	}
	if r.Type == nil {
		return badRequest("authzen.required", map[string]any{"member": field + ".type"})
	}
	if needID && r.ID == nil {
		return badRequest("authzen.required", map[string]any{"member": field + ".id"})
	}
	return nil
}

func (a *action) check(field string) error {
	if a == nil {
		return badRequest("authzen.required", map[string]any{"member": field})
	}
	if a.Name == nil {
		return badRequest("authzen.required", map[string]any{"member": field + ".name"})
	}
	return nil
}

// SubjectUser is the only type of subject equipe knows: a user.
const SubjectUser = "user"

// ResourceAccount is the type of a resource that is an account: the
// question is about the permission in the account, on no resource.
const ResourceAccount = "account"

// Ways to name a user (subject.properties.id_type,
// resource.properties.owner_id_type).
const (
	IDTypeID       = "id"
	IDTypeExternal = "external_id"
	IDTypeEmail    = "email"
)

// The members an id_type is read from, as the messages name them (built
// from their parts: they are members' names, not message keys).
var (
	subjectIDTypeMember = strings.Join([]string{"subject", "properties", "id_type"}, ".")
	ownerIDTypeMember   = strings.Join([]string{"resource", "properties", "owner_id_type"}, ".")
)

// externalPrefix introduces the vendor's identifier, as in the rest of
// the API.
const externalPrefix = "external_id:"

// userRef reads how id names a user. With idType, as it says; without, it
// is recognised: equipe's ID (a UUID), external_id:{id}, an email address
// (an @ in it), else the vendor's external ID. An idType not among those
// known is the request's error.
func userRef(id string, idType *string, field string) (team.UserRef, error) {
	if idType != nil {
		switch *idType {
		case IDTypeID:
			u, err := parseUUID(id)
			if err != nil {
				// No user has it: the zero ID names no one.
				return team.UserRef{Kind: team.RefID}, nil
			}
			return team.UserRef{Kind: team.RefID, ID: u}, nil
		case IDTypeExternal:
			return team.UserRef{Kind: team.RefExternal, Text: id}, nil
		case IDTypeEmail:
			return team.UserRef{Kind: team.RefEmail, Text: id}, nil
		}
		return team.UserRef{}, badRequest("authzen.id_type_invalid", map[string]any{"member": field})
	}
	if u, err := parseUUID(id); err == nil {
		return team.UserRef{Kind: team.RefID, ID: u}, nil
	}
	if ext, ok := strings.CutPrefix(id, externalPrefix); ok {
		return team.UserRef{Kind: team.RefExternal, Text: ext}, nil
	}
	if strings.Contains(id, "@") {
		return team.UserRef{Kind: team.RefEmail, Text: id}, nil
	}
	return team.UserRef{Kind: team.RefExternal, Text: id}, nil
}

// parseUUID parses equipe's form of an ID: 36 characters.
func parseUUID(s string) (equipe.ID, error) {
	if len(s) != 36 {
		return equipe.ID{}, errNotID
	}
	return uuid.Parse(s)
}

var errNotID = badRequest("request.id_invalid", nil)

// question is one evaluation turned into equipe's question: the check to
// ask, or the decision already known (a subject that is no user, an account
// or a resource that cannot exist).
type question struct {
	q     team.CheckQuery
	known *access.Decision
}

// evaluationOf maps one evaluation (defaults applied) to equipe's model:
//
//   - the account: context.account_id, else resource.properties.account_id,
//     else the resource's id when it is of type "account", else the
//     caller's (an account key's own account);
//   - the user: subject.id (type "user"), named as userRef says;
//   - the permission: action.name, a permission's key or one of its
//     catalogue action names;
//   - the resource: for a type the catalogue declares, the resource whose
//     ID is resource.id; for any other type, one of the vendor's records,
//     decided by the permission and its scope alone, whose owner is
//     resource.properties.ownerID.
//
// An error is the request's (400): a missing account, an id_type not
// known.
func (s *Service) evaluationOf(caller team.Actor, sub *subject, act *action, res *resource, ctx *context) (question, error) {
	var out question
	deny := func(r access.Reason) (question, error) {
		return question{known: &access.Decision{Reason: r}}, nil
	}
	var account *string
	switch {
	case ctx != nil && ctx.AccountID != nil:
		account = ctx.AccountID
	case res.Properties != nil && res.Properties.AccountID != nil:
		account = res.Properties.AccountID
	case *res.Type == ResourceAccount:
		account = res.ID
	}
	var ref team.UserRef
	if *sub.Type == SubjectUser {
		var idType *string
		if sub.Properties != nil {
			idType = sub.Properties.IDType
		}
		var err error
		if ref, err = userRef(*sub.ID, idType, subjectIDTypeMember); err != nil {
			return out, err
		}
	}
	var owner *team.UserRef
	unowned := false
	if p := res.Properties; p != nil && p.OwnerID.present {
		if p.OwnerID.null {
			unowned = true
		} else {
			o, err := userRef(p.OwnerID.text, p.OwnerIDType, ownerIDTypeMember)
			if err != nil {
				return out, err
			}
			owner = &o
		}
	} else if p != nil && p.OwnerIDType != nil {
		return out, badRequest("authzen.id_type_invalid", map[string]any{"member": ownerIDTypeMember})
	}
	switch {
	case account != nil:
		id, err := parseUUID(*account)
		if err != nil {
			return deny(access.DeniedUnknownAccount)
		}
		out.q.Account = id
	case caller.Key != nil && caller.Key.AccountID != nil:
		out.q.Account = *caller.Key.AccountID
	default:
		return out, badRequest("authzen.account_required", nil)
	}
	if *sub.Type != SubjectUser {
		return deny(access.DeniedNotMember)
	}
	if key, ok := s.Catalogue.ActionPermission(*act.Name); ok {
		out.q.Permission = key
	} else {
		out.q.Permission = *act.Name
	}
	if ref.Kind == team.RefID {
		out.q.User = ref.ID
	} else {
		out.q.UserRef = &ref
	}
	record := false // one of the vendor's records
	if *res.Type == ResourceAccount {
		// The account the question is in may be named elsewhere: an
		// account resource that is another account is no resource of it.
		if res.ID != nil {
			if id, err := parseUUID(*res.ID); err != nil || id != out.q.Account {
				return deny(access.DeniedUnknownResource)
			}
		}
	} else if _, declared := s.Catalogue.ResourceType(*res.Type); declared {
		id, err := parseUUID(*res.ID)
		if err != nil {
			return deny(access.DeniedUnknownResource)
		}
		out.q.Query.Resource, out.q.Query.HasResource = id, true
	} else {
		record = true
	}
	switch {
	case record && owner == nil && !unowned:
		// A record whose owner is not given is someone else's: a scoped
		// permission reaches it only at the scope "all". The question
		// about the permission in general is asked of the account.
		out.q.Query.Owner, out.q.Query.OwnerKnown = ownerUnknown, true
	case unowned:
		out.q.Query.Unowned = true
	case owner != nil && owner.Kind == team.RefID:
		out.q.Query.Owner, out.q.Query.OwnerKnown = owner.ID, true
	case owner != nil:
		out.q.OwnerRef = owner
	}
	return out, nil
}

// ownerUnknown is the owner of a record whose owner the question does not
// give: an ID no user has.
var ownerUnknown = equipe.ID{}

// statusOf is the HTTP status of an error of one evaluation, as its
// context carries it.
func statusOf(err error) int {
	if re, ok := err.(*reqError); ok {
		return re.status
	}
	return http.StatusInternalServerError
}
