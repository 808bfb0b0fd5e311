package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
)

// TestMarshalPublic_IsTheDocumentedFormWithoutTheAddress checks the public
// JSON of an event field by field: the names of docs/events.md, the states
// as stored, the time in UTC to the microsecond, and no request address.
func TestMarshalPublic_IsTheDocumentedFormWithoutTheAddress(t *testing.T) {
	account, key, user := equipe.NewID(), equipe.NewID(), equipe.NewID()
	before := Member{Role: "manager", Status: equipe.MemberActive, Overrides: []equipe.Override{}}
	after := before
	after.Status = equipe.MemberSuspended
	e := MemberSuspended.In(account, user.String(), &before, &after)
	e.ID, e.IP = equipe.NewID(), "203.0.113.7"
	e.Actor = ByKey(&equipe.APIKey{ID: key, AccountID: &account, Name: "CRM sync"})
	e.At = time.Date(2026, 12, 2, 15, 3, 11, 482913789, time.FixedZone("CET", 3600))

	b, err := MarshalPublic(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id":         e.ID.String(),
		"type":       "member.suspended",
		"account_id": account.String(),
		"actor":      map[string]any{"type": "api_key", "id": key.String(), "name": "CRM sync"},
		"subject":    map[string]any{"type": "user", "id": user.String()},
		"before":     map[string]any{"role": "manager", "status": "active", "title": "", "overrides": []any{}},
		"after":      map[string]any{"role": "manager", "status": "suspended", "title": "", "overrides": []any{}},
		"at":         "2026-12-02T14:03:11.482913Z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("public form\n got %v\nwant %v", got, want)
	}
}

// TestMarshalPublic_StatesAbsentAreNullAndOwnEventsHaveNoAccount checks an
// event of a person's own identity, with no states and no account.
func TestMarshalPublic_StatesAbsentAreNullAndOwnEventsHaveNoAccount(t *testing.T) {
	user := equipe.NewID()
	e := UserLoginFailed.New(nil, user.String(), nil, nil)
	e.ID, e.Actor, e.IP, e.At = equipe.NewID(), System, "198.51.100.1", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	b, err := MarshalPublic(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["account_id"] != nil || got["before"] != nil || got["after"] != nil || got["at"] != "2026-12-02T09:00:00Z" {
		t.Errorf("own event: %s", b)
	}
	if _, ok := got["ip"]; ok {
		t.Errorf("the public form carries the address: %s", b)
	}
	if a := got["actor"].(map[string]any); len(a) != 1 || a["type"] != "system" {
		t.Errorf("actor %v", a)
	}
}

// TestMarshalPublic_FalseIsAbsentWhereTheDocumentationSaysSo: a member who
// is neither owner nor creator, a resource in use and an account without
// SCIM carry no owner, creator, archived or scim_enabled, whichever
// encoder writes them (the API's, and the standard library's), as
// docs/events.md says; set, they are there.
func TestMarshalPublic_FalseIsAbsentWhereTheDocumentationSaysSo(t *testing.T) {
	for _, c := range []struct {
		state  any
		absent []string
	}{
		{Member{Role: "manager", Status: equipe.MemberActive}, []string{"owner", "creator"}},
		{Resource{Type: "location", Name: "Lyon"}, []string{"archived"}},
		{Settings{Name: "Acme"}, []string{"scim_enabled"}},
	} {
		std, err := json.Marshal(c.state)
		if err != nil {
			t.Fatal(err)
		}
		api, err := jsonv2.Marshal(c.state)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{std, api} {
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			for _, k := range c.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%T: %s present in %s", c.state, k, b)
				}
			}
		}
	}
	b, _ := MarshalPublic(ResourceArchived.In(equipe.NewID(), equipe.NewID().String(), &Resource{Type: "location", Name: "Lyon"},
		&Resource{Type: "location", Name: "Lyon", Archived: true}))
	var got struct{ Before, After map[string]any }
	if err := json.Unmarshal(b, &got); err != nil || got.Before["archived"] != nil || got.After["archived"] != true {
		t.Errorf("an archiving: %s %v", b, err)
	}
}

// TestMarshalPublic_AMemberWithNoResourcesSaysSo: a member's state made now
// has resources, empty when they hold none, so that only an event older
// than the field has none (docs/events.md).
func TestMarshalPublic_AMemberWithNoResourcesSaysSo(t *testing.T) {
	now, _ := jsonv2.Marshal(MemberOf(equipe.Member{Role: "manager", Status: equipe.MemberActive}, nil))
	var got map[string]any
	if err := json.Unmarshal(now, &got); err != nil {
		t.Fatal(err)
	}
	if rs, ok := got["resources"].([]any); !ok || len(rs) != 0 {
		t.Errorf("a member with none: %s", now)
	}
	var old Member
	if err := json.Unmarshal([]byte(`{"role":"manager","status":"active","title":"","overrides":[]}`), &old); err != nil {
		t.Fatal(err)
	}
	for _, enc := range []func(any) ([]byte, error){json.Marshal, func(v any) ([]byte, error) { return jsonv2.Marshal(v) }} {
		b, _ := enc(old)
		if strings.Contains(string(b), "resources") {
			t.Errorf("an event older than the field: %s", b)
		}
	}
}
