package access

import (
	"encoding/json"
	"testing"

	"github.com/equipe-dev/equipe"
)

// TestForChecks_DecidesAsTheFullCatalogueAfterAJSONRoundTrip compiles
// members from their Input with the full catalogue, and from the Input's
// JSON with a catalogue of the permissions alone: every check, of every
// permission, with and without a resource and an owner, decides the same.
func TestForChecks_DecidesAsTheFullCatalogueAfterAJSONRoundTrip(t *testing.T) {
	full := Default()
	small, err := ForChecks(full.Permissions)
	if err != nil {
		t.Fatal(err)
	}
	account, user, other := equipe.NewID(), equipe.NewID(), equipe.NewID()
	res, archived, unknown := equipe.NewID(), equipe.NewID(), equipe.NewID()
	a := CompileAccount(account, []equipe.ID{res}, []equipe.ID{archived})
	var inputs []Input
	for _, r := range full.Roles {
		for _, st := range []Status{MemberActive, MemberSuspended, MemberInvited} {
			inputs = append(inputs, Input{UserID: user, AccountID: account, Role: r, Status: st, Resources: []equipe.ID{res}})
		}
		inputs = append(inputs, Input{UserID: user, AccountID: account, Role: r, Status: MemberActive,
			Overrides: []Override{{Permission: "records.view", Allow: true, Scope: ScopeOwned},
				{Permission: "members.manage", Allow: false}, {Permission: "billing.access", Allow: true}}},
			Input{UserID: user, AccountID: account, Role: r, Status: MemberActive, UserDisabled: true},
			Input{UserID: user, AccountID: account, Role: r, Status: MemberActive, ViaFirm: true})
	}
	queries := []Query{{}, {Resource: res, HasResource: true}, {Resource: archived, HasResource: true},
		{Resource: unknown, HasResource: true}, {Owner: user, OwnerKnown: true}, {Owner: other, OwnerKnown: true},
		{Unowned: true}, {Owner: user, OwnerKnown: true, Unowned: true}}
	checked := 0
	for _, in := range inputs {
		b, err := json.Marshal(in.JSON())
		if err != nil {
			t.Fatal(err)
		}
		var j InputJSON
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatal(err)
		}
		mFull, mSmall := full.Compile(in), small.Compile(j.Input(account, user))
		for _, p := range append(full.Permissions, Permission{Key: "no.such"}) {
			for _, q := range queries {
				if got, want := small.Check(mSmall, a, p.Key, q), full.Check(mFull, a, p.Key, q); got != want {
					t.Fatalf("%s as %s (%s) %+v: %+v after JSON, %+v before (%s)", p.Key, in.Role.Key, in.Status, q, got, want, b)
				}
				checked++
			}
		}
	}
	t.Logf("%d checks decided the same", checked)
}

func TestForChecks_RefusesWhatNoCatalogueHolds(t *testing.T) {
	for name, ps := range map[string][]Permission{
		"bad key":         {{Key: "Bad Key"}},
		"twice":           {{Key: "a.b"}, {Key: "a.b"}},
		"default missing": {{Key: "a.b", Scopes: []Scope{ScopeAll, ScopeOwned}}},
		"default foreign": {{Key: "a.b", Scopes: []Scope{ScopeAll}, DefaultScope: ScopeOwned}},
		"order":           {{Key: "a.b", Scopes: []Scope{ScopeOwned, ScopeAll}, DefaultScope: ScopeAll}},
		"default alone":   {{Key: "a.b", DefaultScope: ScopeAll}},
	} {
		if _, err := ForChecks(ps); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
