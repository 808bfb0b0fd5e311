package team_test

import (
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// resourceState is the state events give of a resource.
func resourceState(r equipe.Resource) event.Resource { return event.ResourceOf(r) }

func TestResources_ChangesAreRecordedAndRefusalsChangeNothing(t *testing.T) {
	type result struct {
		id            equipe.ID
		before, after *event.Resource
	}
	// Each row acts on the scene's "Nord" location (in use) or its "Sud"
	// location (archived).
	tests := []struct {
		name    string
		by      func(s *scene) team.Actor
		do      func(s *scene, by team.Actor, nord, sud equipe.Resource) (result, error)
		refusal string
		kind    event.Type
	}{
		{name: "a location is created", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, _ equipe.Resource) (result, error) {
				r, err := s.s.CreateResource(ctx, by, s.account, "location", "  Agence Est ", "crm-42")
				if err == nil && (r.Name != "Agence Est" || r.ExternalID != "crm-42" || r.Archived()) {
					t.Errorf("created %+v", r)
				}
				return result{r.ID, nil, &event.Resource{Type: "location", Name: "Agence Est", ExternalID: "crm-42"}}, err
			},
			kind: event.ResourceCreated.Type},
		{name: "a name of another type is free", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, _ equipe.Resource) (result, error) {
				r, err := s.s.CreateResource(ctx, by, s.account, "service", "Nord", "")
				return result{r.ID, nil, &event.Resource{Type: "service", Name: "Nord"}}, err
			},
			kind: event.ResourceCreated.Type},
		{name: "a location is renamed", by: func(s *scene) team.Actor { return s.actor("manager") },
			do: func(s *scene, by team.Actor, nord, _ equipe.Resource) (result, error) {
				r, err := s.s.ChangeResource(ctx, by, s.account, nord.ID, team.ResourceChange{Name: ptr("Nord-Ouest")})
				after := nord
				after.Name = "Nord-Ouest"
				return result{nord.ID, ptr(resourceState(nord)), ptr(resourceState(after))}, errOr(err, r.Name != "Nord-Ouest")
			},
			kind: event.ResourceChanged.Type},
		{name: "an external ID is set, an archived location renamed", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, sud equipe.Resource) (result, error) {
				_, err := s.s.ChangeResource(ctx, by, s.account, sud.ID, team.ResourceChange{Name: ptr("Sud (fermé)"), ExternalID: ptr("ext-9")})
				after := sud
				after.Name, after.ExternalID = "Sud (fermé)", "ext-9"
				return result{sud.ID, ptr(resourceState(sud)), ptr(resourceState(after))}, err
			},
			kind: event.ResourceChanged.Type},
		{name: "a location is archived", by: (*scene).admin,
			do: func(s *scene, by team.Actor, nord, _ equipe.Resource) (result, error) {
				r, err := s.s.ArchiveResource(ctx, by, s.account, nord.ID)
				return result{nord.ID, &event.Resource{Type: "location", Name: "Nord"},
					&event.Resource{Type: "location", Name: "Nord", Archived: true}}, errOr(err, !r.Archived())
			},
			kind: event.ResourceArchived.Type},
		{name: "an archived location is restored", by: func(s *scene) team.Actor { return s.actor("manager") },
			do: func(s *scene, by team.Actor, _, sud equipe.Resource) (result, error) {
				r, err := s.s.RestoreResource(ctx, by, s.account, sud.ID)
				return result{sud.ID, &event.Resource{Type: "location", Name: "Sud", Archived: true},
					&event.Resource{Type: "location", Name: "Sud"}}, errOr(err, r.Archived())
			},
			kind: event.ResourceRestored.Type},
		{name: "a type the catalogue does not declare is refused", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, _ equipe.Resource) (result, error) {
				_, err := s.s.CreateResource(ctx, by, s.account, "planet", "Mars", "")
				return result{}, err
			},
			refusal: "error.fields type=resource.type_unknown"},
		{name: "an empty name is refused", by: (*scene).admin,
			do: func(s *scene, by team.Actor, nord, _ equipe.Resource) (result, error) {
				_, err := s.s.ChangeResource(ctx, by, s.account, nord.ID, team.ResourceChange{Name: ptr("  ")})
				return result{}, err
			},
			refusal: "error.fields name=name.required"},
		{name: "a name too long is refused", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, _ equipe.Resource) (result, error) {
				_, err := s.s.CreateResource(ctx, by, s.account, "location", strings.Repeat("n", 101), strings.Repeat("x", 201))
				return result{}, err
			},
			refusal: "error.fields name=name.too_long external_id=name.too_long"},
		{name: "a name the type has is refused, case and accents aside", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, _ equipe.Resource) (result, error) {
				_, err := s.s.CreateResource(ctx, by, s.account, "location", "NÖRD", "")
				return result{}, err
			},
			refusal: "resource.name_taken name=resource.name_taken"},
		{name: "an archived location's name is taken too", by: (*scene).admin,
			do: func(s *scene, by team.Actor, nord, _ equipe.Resource) (result, error) {
				_, err := s.s.ChangeResource(ctx, by, s.account, nord.ID, team.ResourceChange{Name: ptr("sud")})
				return result{}, err
			},
			refusal: "resource.name_taken name=resource.name_taken"},
		{name: "an archived location is not archived again", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, sud equipe.Resource) (result, error) {
				_, err := s.s.ArchiveResource(ctx, by, s.account, sud.ID)
				return result{}, err
			},
			refusal: "resource.already_archived"},
		{name: "a location in use is not restored", by: (*scene).admin,
			do: func(s *scene, by team.Actor, nord, _ equipe.Resource) (result, error) {
				_, err := s.s.RestoreResource(ctx, by, s.account, nord.ID)
				return result{}, err
			},
			refusal: "resource.not_archived"},
		{name: "a guest does not manage resources", by: func(s *scene) team.Actor { return s.actor("guest") },
			do: func(s *scene, by team.Actor, nord, _ equipe.Resource) (result, error) {
				_, err := s.s.ArchiveResource(ctx, by, s.account, nord.ID)
				return result{}, err
			},
			refusal: "access.permission_required"},
		{name: "a resource the account does not have is not found", by: (*scene).admin,
			do: func(s *scene, by team.Actor, _, _ equipe.Resource) (result, error) {
				_, err := s.s.ArchiveResource(ctx, by, s.account, equipe.NewID())
				return result{}, err
			},
			refusal: "error.not_found"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				s.add("manager", "manager", equipe.MemberActive)
				s.add("guest", "guest", equipe.MemberActive)
				nord, err := s.s.CreateResource(ctx, s.admin(), s.account, "location", "Nord", "")
				if err != nil {
					t.Fatal(err)
				}
				sud, err := s.s.CreateResource(ctx, s.admin(), s.account, "location", "Sud", "")
				if err != nil {
					t.Fatal(err)
				}
				if sud, err = s.s.ArchiveResource(ctx, s.admin(), s.account, sud.ID); err != nil {
					t.Fatal(err)
				}
				by := tt.by(s)
				var res result
				before, ok := s.done(t, tt.refusal, func() (err error) {
					res, err = tt.do(s, by, nord, sud)
					return err
				})
				if !ok {
					return
				}
				e := s.wrote(t, before, tt.kind)[0]
				wantEvent(t, e, recorded(by), event.Subject{Kind: event.SubjectResource, ID: res.id.String()})
				wantStates(t, e, deref(res.before), deref(res.after))
			})
		}
	})
}

// errOr returns err, or an error when bad.
func errOr(err error, bad bool) error {
	if err == nil && bad {
		return equipe.Errorf(equipe.EINTERNAL, "test.unexpected_result")
	}
	return err
}

// deref is the state r points to, or none.
func deref(r *event.Resource) event.State {
	if r == nil {
		return nil
	}
	return *r
}

func TestResourceRule_WhatIsOfferedIsWhatIsDone(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.add("manager", "manager", equipe.MemberActive)
		s.add("guest", "guest", equipe.MemberActive)
		nord, err := s.s.CreateResource(ctx, s.admin(), s.account, "location", "Nord", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, reader := range []string{"guest", "manager", "admin"} {
			by := s.actor(reader)
			// In use: restore is refused as offered, archive done as offered.
			v, err := s.s.Resource(ctx, by, s.account, nord.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.s.RestoreResource(ctx, by, s.account, nord.ID)
			if got, offered := key(err), answer(v.Actions.Get(team.ResourceRestore)); got != offered {
				t.Errorf("%s restores a location in use: %q, offered %q", reader, got, offered)
			}
			_, err = s.s.ArchiveResource(ctx, by, s.account, nord.ID)
			if got, offered := key(err), answer(v.Actions.Get(team.ResourceArchive)); got != offered {
				t.Errorf("%s archives: %q, offered %q", reader, got, offered)
			}
			if err != nil {
				continue
			}
			// Archived: archive is refused as offered, restore done as offered.
			v, err = s.s.Resource(ctx, by, s.account, nord.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.s.ArchiveResource(ctx, by, s.account, nord.ID)
			if got, offered := key(err), answer(v.Actions.Get(team.ResourceArchive)); got != offered || got != "resource.already_archived" {
				t.Errorf("%s archives again: %q, offered %q", reader, got, offered)
			}
			_, err = s.s.RestoreResource(ctx, by, s.account, nord.ID)
			if got, offered := key(err), answer(v.Actions.Get(team.ResourceRestore)); got != offered || got != "" {
				t.Errorf("%s restores: %q, offered %q", reader, got, offered)
			}
		}
		v, err := s.s.Resource(ctx, s.actor("guest"), s.account, nord.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range team.ResourceActionNames {
			if got := answer(v.Actions.Get(name)); got != "access.permission_required" {
				t.Errorf("a guest is offered %s: %q", name, got)
			}
		}
	})
}

func TestArchive_ChecksAreDeniedAssignmentsKeptAndNotOfferedAnew(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.add("guest", "guest", equipe.MemberActive)
		nord, err := s.s.CreateResource(ctx, s.admin(), s.account, "location", "Nord", "")
		if err != nil {
			t.Fatal(err)
		}
		guest := s.users["guest"]
		held := []equipe.ID{s.res[2].ID, nord.ID}
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, guest.ID, team.MemberChange{Resources: &held}); err != nil {
			t.Fatal(err)
		}
		check := func() access.Reason {
			t.Helper()
			d, err := s.s.Check(ctx, s.b.instance, team.CheckQuery{User: guest.ID, Account: s.account, Permission: "records.view",
				Query: access.Query{Resource: nord.ID, HasResource: true}})
			if err != nil {
				t.Fatal(err)
			}
			return d.Reason
		}
		if r := check(); r != access.AllowedScopeAll {
			t.Fatalf("before archiving: %s", r)
		}
		s.b.st.Clock.Advance(time.Minute)
		if _, err := s.s.ArchiveResource(ctx, s.admin(), s.account, nord.ID); err != nil {
			t.Fatal(err)
		}
		// The cache this process answers from heard the change.
		if r := check(); r != access.DeniedResourceArchived {
			t.Errorf("archived: %s, want %s", r, access.DeniedResourceArchived)
		}
		// The assignment stays, shown as archived.
		v, err := s.s.Resource(ctx, s.admin(), s.account, nord.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Members) != 1 || v.Members[0].UserID != guest.ID || !v.Archived() {
			t.Errorf("archived resource: %+v", v)
		}
		// The member keeps it through another change, but nobody is given it.
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, guest.ID, team.MemberChange{Title: ptr("Gérant"), Resources: &held}); err != nil {
			t.Errorf("keeping an archived resource: %v", err)
		}
		before := s.snapshot()
		_, err = s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: s.email("new"), FirstName: "New", LastName: "Guest", Role: "guest",
			Resources: []equipe.ID{s.res[2].ID, nord.ID}})
		s.refused(t, err, "error.fields resources[1]=resource.archived", before)
		s.add("collab", "collaborator", equipe.MemberActive)
		to := []equipe.ID{s.res[2].ID, nord.ID}
		before = s.snapshot()
		_, err = s.s.ChangeMember(ctx, s.admin(), s.account, s.users["collab"].ID, team.MemberChange{Resources: &to})
		s.refused(t, err, "error.fields resources[1]=resource.archived", before)
		// Lists tell them apart.
		for _, tc := range []struct {
			archived bool
			want     int
		}{{true, 1}, {false, len(s.res)}} {
			list, _, err := s.s.ResourceList(ctx, s.admin(), s.account, team.ResourceFilter{Archived: ptr(tc.archived)}, equipe.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != tc.want {
				t.Errorf("archived=%v: %d resources, want %d", tc.archived, len(list), tc.want)
			}
		}
		if _, err := s.s.RestoreResource(ctx, s.admin(), s.account, nord.ID); err != nil {
			t.Fatal(err)
		}
		if r := check(); r != access.AllowedScopeAll {
			t.Errorf("restored: %s", r)
		}
	})
}
