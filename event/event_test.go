package event

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
)

// fill sets every exported field of the value v points to, recursively, to
// a value that is not its type's zero: what a state holds at its fullest.
func fill(t *testing.T, v reflect.Value, seed string) {
	t.Helper()
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 12, 2, 15, 4, 5, 123456000, time.UTC)))
		return
	case v.Type() == reflect.TypeFor[equipe.ID]():
		v.Set(reflect.ValueOf(equipe.NewID()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(seed + "-value")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), seed)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(t, v.Field(i), strings.ToLower(f.Name))
			}
		}
	default:
		t.Fatalf("fill: no value for %s", v.Type())
	}
}

func full[S State](t *testing.T) S {
	var s S
	fill(t, reflect.ValueOf(&s).Elem(), "state")
	return s
}

// roundTrip checks that an event of kind k, with its states at their
// fullest, is stored and read back as it was, and that every field of its
// stored states is one its states list (the names a reader of an old row
// relies on).
func roundTrip[B, A State](k Kind[B, A]) func(t *testing.T) {
	return func(t *testing.T) {
		before, after := full[B](t), full[A](t)
		account, actor := equipe.NewID(), equipe.NewID()
		e := k.In(account, "subject-1", &before, &after)
		e.ID, e.IP, e.At = equipe.NewID(), "192.0.2.7", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		e.Actor = ByUser(actor)
		if err := Check(e); err != nil {
			t.Fatal(err)
		}
		row, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if row.Action != string(k.Type) || row.TargetType != string(k.Subject) || row.ActorType != "user" {
			t.Errorf("stored as %q about %q by %q", row.Action, row.TargetType, row.ActorType)
		}
		if got := Decode(row); !reflect.DeepEqual(got, e) {
			t.Errorf("read back\n%#v\nwant\n%#v", got, e)
		}
		for side, s := range map[string]struct {
			stored string
			state  State
		}{"before": {row.Before, before}, "after": {row.After, after}} {
			var keys map[string]any
			if err := json.Unmarshal([]byte(s.stored), &keys); err != nil {
				t.Fatalf("%s: %v", side, err)
			}
			var names []string
			for _, f := range s.state.Fields() {
				names = append(names, f.Name)
			}
			var stored []string
			for n := range keys {
				stored = append(stored, n)
			}
			slices.Sort(names)
			slices.Sort(stored)
			if !slices.Equal(names, stored) {
				t.Errorf("%s: stored fields %v, listed %v", side, stored, names)
			}
		}
	}
}

func TestKinds_EveryStateIsStoredAndReadBackAsItWas(t *testing.T) {
	tests := map[Type]func(*testing.T){
		MemberAdded.Type: roundTrip(MemberAdded), InvitationSent.Type: roundTrip(InvitationSent),
		InvitationResent.Type: roundTrip(InvitationResent), InvitationRevoked.Type: roundTrip(InvitationRevoked),
		MemberJoined.Type: roundTrip(MemberJoined), MemberChanged.Type: roundTrip(MemberChanged),
		MemberSuspended.Type: roundTrip(MemberSuspended), MemberReactivated.Type: roundTrip(MemberReactivated),
		MemberPasswordResetSent.Type: roundTrip(MemberPasswordResetSent), MemberRemoved.Type: roundTrip(MemberRemoved),
		RoleCreated.Type: roundTrip(RoleCreated), RoleChanged.Type: roundTrip(RoleChanged),
		RoleDeleted.Type: roundTrip(RoleDeleted), ContactCreated.Type: roundTrip(ContactCreated),
		ContactChanged.Type: roundTrip(ContactChanged), ContactDeleted.Type: roundTrip(ContactDeleted),
		ResourceCreated.Type: roundTrip(ResourceCreated), ResourceChanged.Type: roundTrip(ResourceChanged),
		ResourceArchived.Type: roundTrip(ResourceArchived), ResourceRestored.Type: roundTrip(ResourceRestored),
		ClientStaffAssigned.Type:   roundTrip(ClientStaffAssigned),
		ClientStaffUnassigned.Type: roundTrip(ClientStaffUnassigned), ClientDetached.Type: roundTrip(ClientDetached),
		KeyCreated.Type: roundTrip(KeyCreated), KeyRevoked.Type: roundTrip(KeyRevoked),
		AccountCreated.Type: roundTrip(AccountCreated), AccountChanged.Type: roundTrip(AccountChanged),
		AccountDeleted.Type: roundTrip(AccountDeleted),
		UserLoggedIn.Type:   roundTrip(UserLoggedIn), UserLoginFailed.Type: roundTrip(UserLoginFailed),
		UserLoggedOut.Type: roundTrip(UserLoggedOut), UserEmailVerified.Type: roundTrip(UserEmailVerified),
		UserPasswordResetRequested.Type: roundTrip(UserPasswordResetRequested),
		UserPasswordReset.Type:          roundTrip(UserPasswordReset), UserPolicyAccepted.Type: roundTrip(UserPolicyAccepted),
		InstanceAdminCreated.Type: roundTrip(InstanceAdminCreated), PolicyPublished.Type: roundTrip(PolicyPublished),
		PolicyWithdrawn.Type:          roundTrip(PolicyWithdrawn),
		UserTOTPEnrolmentStarted.Type: roundTrip(UserTOTPEnrolmentStarted),
		UserSecondFactorAdded.Type:    roundTrip(UserSecondFactorAdded), UserSecondFactorRemoved.Type: roundTrip(UserSecondFactorRemoved),
		UserRecoveryCodesRegenerated.Type: roundTrip(UserRecoveryCodesRegenerated),
		UserRecoveryCodeUsed.Type:         roundTrip(UserRecoveryCodeUsed), UserSecondStepRequired.Type: roundTrip(UserSecondStepRequired),
		UserSecondFactorFailed.Type: roundTrip(UserSecondFactorFailed),
		UserDataExported.Type:       roundTrip(UserDataExported), UserDeleted.Type: roundTrip(UserDeleted),
		UserProfileChanged.Type: roundTrip(UserProfileChanged), UserPasswordChanged.Type: roundTrip(UserPasswordChanged),
		UserNotificationEmailRequested.Type: roundTrip(UserNotificationEmailRequested),
		UserNotificationEmailConfirmed.Type: roundTrip(UserNotificationEmailConfirmed),
		UserNotificationEmailCancelled.Type: roundTrip(UserNotificationEmailCancelled),
		UserNotificationEmailRemoved.Type:   roundTrip(UserNotificationEmailRemoved),
		UserEmailChangeRequested.Type:       roundTrip(UserEmailChangeRequested),
		UserEmailChangeResent.Type:          roundTrip(UserEmailChangeResent),
		UserEmailChangeWithdrawn.Type:       roundTrip(UserEmailChangeWithdrawn),
		UserEmailChanged.Type:               roundTrip(UserEmailChanged),
		UserEmailChangeCancelled.Type:       roundTrip(UserEmailChangeCancelled),
		UserPasskeyAdded.Type:               roundTrip(UserPasskeyAdded), UserPasskeyRenamed.Type: roundTrip(UserPasskeyRenamed),
		UserPasskeyRemoved.Type: roundTrip(UserPasskeyRemoved),
		UserSessionEnded.Type:   roundTrip(UserSessionEnded), UserSessionsEnded.Type: roundTrip(UserSessionsEnded),
		UserAlertsChanged.Type:        roundTrip(UserAlertsChanged),
		UserExternalIDChanged.Type:    roundTrip(UserExternalIDChanged),
		UserDisabled.Type:             roundTrip(UserDisabled),
		UserEnabled.Type:              roundTrip(UserEnabled),
		UserSecondFactorsRemoved.Type: roundTrip(UserSecondFactorsRemoved),
		MembersImported.Type:          roundTrip(MembersImported),
		WebhookCreated.Type:           roundTrip(WebhookCreated), WebhookChanged.Type: roundTrip(WebhookChanged),
		WebhookDeleted.Type: roundTrip(WebhookDeleted), WebhookSecretRotated.Type: roundTrip(WebhookSecretRotated),
		WebhookDisabled.Type:   roundTrip(WebhookDisabled),
		OIDCClientCreated.Type: roundTrip(OIDCClientCreated), OIDCClientSecretRotated.Type: roundTrip(OIDCClientSecretRotated),
		OIDCClientDeleted.Type: roundTrip(OIDCClientDeleted), UserOIDCConsentGiven.Type: roundTrip(UserOIDCConsentGiven),
		OIDCClientChanged.Type:        roundTrip(OIDCClientChanged),
		UserOIDCConsentWithdrawn.Type: roundTrip(UserOIDCConsentWithdrawn),
		InstanceBrandChanged.Type:     roundTrip(InstanceBrandChanged),
	}
	for _, typ := range Types() {
		test, ok := tests[typ]
		if !ok {
			t.Errorf("kind %s is declared but not tested here", typ)
			continue
		}
		t.Run(string(typ), test)
	}
	if len(tests) != len(Types()) {
		t.Errorf("%d kinds tested, %d declared", len(tests), len(Types()))
	}
}

func TestCheck_RefusesUnknownKindsAndSubjectsOfAnotherKind(t *testing.T) {
	before := Member{Role: "admin", Status: equipe.MemberActive}
	tests := []struct {
		name  string
		event Event
		want  string // in the error; empty for none
	}{
		{"declared", MemberSuspended.In(equipe.NewID(), "u", &before, &before), ""},
		{"unknown kind", Event{Type: "member.teleported", Subject: Subject{Kind: SubjectUser}}, `unknown kind "member.teleported"`},
		{"empty kind", Event{}, `unknown kind ""`},
		{"subject of another kind", Event{Type: RoleCreated.Type, Subject: Subject{Kind: SubjectUser, ID: "u"}},
			"role.created is about a role, not a user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.event)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestAccountTypes_HoldEveryKindOfAnAccountsLogAndNoPersonsOwn(t *testing.T) {
	account := AccountTypes()
	if !slices.Contains(account, MemberAdded.Type) || !slices.Contains(account, KeyRevoked.Type) ||
		!slices.Contains(account, AccountChanged.Type) {
		t.Errorf("account log kinds %v miss some of a team's", account)
	}
	own := []Type{UserLoggedIn.Type, UserLoginFailed.Type, UserLoggedOut.Type, UserEmailVerified.Type,
		UserTOTPEnrolmentStarted.Type, UserSecondFactorAdded.Type, UserSecondFactorRemoved.Type,
		UserRecoveryCodesRegenerated.Type, UserRecoveryCodeUsed.Type, UserSecondStepRequired.Type, UserSecondFactorFailed.Type,
		UserPasswordResetRequested.Type, UserPasswordReset.Type, UserPolicyAccepted.Type, InstanceAdminCreated.Type,
		PolicyPublished.Type, PolicyWithdrawn.Type, UserProfileChanged.Type, UserPasswordChanged.Type, UserNotificationEmailRequested.Type,
		UserNotificationEmailConfirmed.Type, UserNotificationEmailCancelled.Type, UserNotificationEmailRemoved.Type,
		UserEmailChangeRequested.Type, UserEmailChangeResent.Type, UserEmailChangeWithdrawn.Type,
		UserEmailChanged.Type, UserEmailChangeCancelled.Type, UserPasskeyAdded.Type, UserPasskeyRenamed.Type,
		UserPasskeyRemoved.Type, UserSessionEnded.Type, UserSessionsEnded.Type, UserSecondFactorsRemoved.Type, UserDataExported.Type,
		UserDeleted.Type, UserAlertsChanged.Type, UserExternalIDChanged.Type, UserDisabled.Type, UserEnabled.Type,
		OIDCClientCreated.Type, OIDCClientSecretRotated.Type, OIDCClientDeleted.Type, OIDCClientChanged.Type, UserOIDCConsentGiven.Type,
		UserOIDCConsentWithdrawn.Type, InstanceBrandChanged.Type, AccountDeleted.Type}
	for _, own := range own {
		if slices.Contains(account, own) {
			t.Errorf("%s is in an account's log", own)
		}
		if !Known(own) {
			t.Errorf("%s is not known", own)
		}
	}
	if len(account)+len(own) != len(Types()) {
		t.Errorf("%d account kinds and %d of a person or the instance, of %d", len(account), len(own), len(Types()))
	}
	if s, ok := SubjectOf(RoleDeleted.Type); !ok || s != SubjectRole {
		t.Errorf("SubjectOf(role.deleted) = %q, %v", s, ok)
	}
	if _, ok := SubjectOf("nothing.happened"); ok || Known("nothing.happened") {
		t.Error("an undeclared kind is known")
	}
}

func TestMemberTypes_AreAPersonsOwnAboutThem(t *testing.T) {
	got := MemberTypes()
	if want := []Type{UserDisabled.Type, UserEnabled.Type}; !slices.Equal(got, want) {
		t.Fatalf("MemberTypes() = %v, want %v", got, want)
	}
	for _, typ := range got {
		if slices.Contains(AccountTypes(), typ) {
			t.Errorf("%s is in an account's log", typ)
		}
		if s, _ := SubjectOf(typ); s != SubjectUser {
			t.Errorf("%s is about a %s, not the person", typ, s)
		}
	}
}

func TestChanges_ListWhatChangedFieldByField(t *testing.T) {
	r1, r2 := equipe.NewID(), equipe.NewID()
	admin := Member{Role: "admin", Status: equipe.MemberActive, Title: "Gérante", Overrides: []equipe.Override{},
		Resources: []equipe.ID{r1}}
	manager := admin
	manager.Role, manager.Resources = "manager", []equipe.ID{r1, r2}
	suspended := admin
	suspended.Status = equipe.MemberSuspended
	named := admin
	named.ExternalID = "crm-1"
	tests := []struct {
		name  string
		event Event
		want  []Change
	}{
		{"nothing changed", MemberChanged.In(equipe.NewID(), "u", &admin, &admin), nil},
		{"role and resources", MemberChanged.In(equipe.NewID(), "u", &admin, &manager), []Change{
			{Name: "role", Kind: ValueRole, Before: "admin", After: "manager", HasBefore: true},
			{Name: "resources", Kind: ValueResources, Before: []equipe.ID{r1}, After: []equipe.ID{r1, r2}, HasBefore: true},
		}},
		{"status", MemberSuspended.In(equipe.NewID(), "u", &admin, &suspended), []Change{
			{Name: "status", Kind: ValueStatus, Before: equipe.MemberActive, After: equipe.MemberSuspended, HasBefore: true},
		}},
		{"an external ID set", MemberChanged.In(equipe.NewID(), "u", &admin, &named), []Change{
			{Name: "external_id", Kind: ValueText, After: "crm-1"},
		}},
		{"an external ID cleared", MemberChanged.In(equipe.NewID(), "u", &named, &admin), []Change{
			{Name: "external_id", Kind: ValueText, Before: "crm-1", After: "", HasBefore: true},
		}},
		{"a removal lists what the subject had", MemberRemoved.In(equipe.NewID(), "u", &admin, nil), []Change{
			{Name: "role", Kind: ValueRole, After: "admin"},
			{Name: "status", Kind: ValueStatus, After: equipe.MemberActive},
			{Name: "title", Kind: ValueText, After: "Gérante"},
			{Name: "overrides", Kind: ValueOverrides, After: []equipe.Override{}},
			{Name: "resources", Kind: ValueResources, After: []equipe.ID{r1}},
		}},
		{"a creation lists what the subject got", ContactCreated.In(equipe.NewID(), "c", nil,
			&Contact{FirstName: "Ana", Email: "ana@example.com", Kinds: []string{"billing"}}), []Change{
			{Name: "first_name", Kind: ValueText, After: "Ana"},
			{Name: "last_name", Kind: ValueText, After: ""},
			{Name: "email", Kind: ValueEmail, After: "ana@example.com"},
			{Name: "phone", Kind: ValueText, After: ""},
			{Name: "kinds", Kind: ValueContactKinds, After: []string{"billing"}},
		}},
		{"context before that the state after does not have", InvitationSent.In(equipe.NewID(), "u", &admin,
			&Invitation{Status: equipe.MemberInvited, Template: TemplateInvitation, InvitationsSent: 1}), []Change{
			{Name: "status", Kind: ValueStatus, Before: equipe.MemberActive, After: equipe.MemberInvited, HasBefore: true},
			{Name: "template", Kind: ValueTemplate, After: TemplateInvitation},
			{Name: "invitations_sent", Kind: ValueCount, After: 1},
			{Name: "expires_at", Kind: ValueTime, After: time.Time{}},
		}},
		{"no state at all", UserLoggedIn.New(nil, "s", nil, nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.event.Changes(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestSame_TellsAChangeFromOneThatChangesNothing(t *testing.T) {
	r1, r2 := equipe.NewID(), equipe.NewID()
	member := Member{Role: "manager", Status: equipe.MemberActive, Overrides: []equipe.Override{}, Resources: []equipe.ID{r1, r2}}
	reordered := member
	reordered.Resources = []equipe.ID{r2, r1}
	none := member
	none.Resources, none.Overrides = []equipe.ID{}, nil
	empty := member
	empty.Resources = nil
	named := member
	named.ExternalID = "crm-1"
	twice := member
	twice.Resources = []equipe.ID{r1, r1}
	contact := Contact{FirstName: "Ana", Phone: "+33 1 23 45 67 89", Kinds: []string{"billing", "technical"}}
	kinds := contact
	kinds.Kinds = []string{"technical", "billing"}
	phone := contact
	phone.Phone = "+33 1 23 45 67 80"
	grants := Role{LabelFR: "Caisse", Grants: []equipe.Grant{{Permission: "a"}, {Permission: "b", Scope: "own"}}}
	regranted := grants
	regranted.Grants = []equipe.Grant{{Permission: "b", Scope: "own"}, {Permission: "a"}}
	rescoped := grants
	rescoped.Grants = []equipe.Grant{{Permission: "a"}, {Permission: "b"}}
	settings := Settings{Name: "Alpha", Locale: "fr", InvitationTTLHours: 72}
	renamed := settings
	renamed.Name = "Beta"
	tests := []struct {
		name string
		a, b State
		want bool
	}{
		{"one state", member, member, true},
		{"resources in another order", member, reordered, true},
		{"an empty list and none", none, empty, true},
		{"other resources", member, none, false},
		{"a list with one twice", member, twice, false},
		{"an external ID set", member, named, false},
		{"kinds in another order", contact, kinds, true},
		{"another phone", contact, phone, false},
		{"grants in another order", grants, regranted, true},
		{"a grant's scope", grants, rescoped, false},
		{"settings", settings, settings, true},
		{"a new name", settings, renamed, false},
		{"states of two types", Staff{UserID: r1}, Detachment{ParentID: r1}, false},
		{"no state", None{}, None{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Same(tt.a, tt.b); got != tt.want {
				t.Errorf("Same = %v, want %v", got, tt.want)
			}
			if got := Same(tt.b, tt.a); got != tt.want {
				t.Errorf("Same the other way = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecode_ReadsEveryStoredRowEvenWhenNoTypeFitsIt(t *testing.T) {
	id := equipe.NewID()
	row := func(action, before, after string) equipe.AuditEvent {
		return equipe.AuditEvent{ID: equipe.NewID(), Action: action, TargetType: "user", TargetID: "u",
			Before: before, After: after}
	}
	tests := []struct {
		name          string
		row           equipe.AuditEvent
		before, after State
		actor         Actor
	}{
		{"typed", row("member.changed", `{"role":"admin","status":"active","title":"","overrides":[]}`,
			`{"role":"viewer","status":"active","title":"","overrides":[]}`),
			Member{Role: "admin", Status: equipe.MemberActive, Overrides: []equipe.Override{}},
			Member{Role: "viewer", Status: equipe.MemberActive, Overrides: []equipe.Override{}}, System},
		{"a value of another type is read raw", row("member.changed", `{"role":5}`, ""),
			Raw{"role": float64(5)}, nil, System},
		{"a kind no longer declared is read raw", row("member.teleported", "", `{"to":"Mars"}`),
			nil, Raw{"to": "Mars"}, System},
		{"not JSON", row("member.changed", "{", "[1]"), Raw{}, Raw{}, System},
		{"an older row with a user and no actor kind", func() equipe.AuditEvent {
			r := row("member.password_reset_sent", "", "")
			r.ActorID = &id
			return r
		}(), nil, nil, ByUser(id)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Decode(tt.row)
			if !reflect.DeepEqual(e.Before, tt.before) || !reflect.DeepEqual(e.After, tt.after) {
				t.Errorf("states %#v, %#v; want %#v, %#v", e.Before, e.After, tt.before, tt.after)
			}
			if !reflect.DeepEqual(e.Actor, tt.actor) {
				t.Errorf("actor %#v, want %#v", e.Actor, tt.actor)
			}
		})
	}
}

func TestRaw_FieldsTakeTheKindOfTheDeclaredFieldOfTheirName(t *testing.T) {
	got := Raw{"status": "suspended", "role": "admin", "members_moved": float64(3), "planet": "Mars"}.Fields()
	want := []Field{
		{Name: "members_moved", Kind: ValueRaw, Value: float64(3)},
		{Name: "planet", Kind: ValueRaw, Value: "Mars"},
		{Name: "role", Kind: ValueRole, Value: "admin"},
		{Name: "status", Kind: ValueStatus, Value: equipe.MemberSuspended},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%#v\nwant\n%#v", got, want)
	}
}

func TestByKey_TellsAccountKeysFromInstanceKeys(t *testing.T) {
	account := equipe.NewID()
	k := &equipe.APIKey{ID: equipe.NewID(), AccountID: &account, Name: "CI"}
	if a := ByKey(k); a.Kind != ActorKey || *a.ID != k.ID || a.Name != "CI" || a.UserID() != nil {
		t.Errorf("account key: %#v", a)
	}
	k.AccountID = nil
	if a := ByKey(k); a.Kind != ActorInstanceKey {
		t.Errorf("instance key: %#v", a)
	}
	u := equipe.NewID()
	if got := ByUser(u).UserID(); got == nil || *got != u {
		t.Errorf("ByUser(u).UserID() = %v", got)
	}
}
