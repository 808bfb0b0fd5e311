package access

import (
	"testing"

	"github.com/equipe-dev/equipe"
)

// TestNarrow_AKeyActsWithAtMostItsCreatorsRights: an API key compiled with
// its role, narrowed by its creator's membership, may never do more than
// either of them, in every way a member is judged.
func TestNarrow_AKeyActsWithAtMostItsCreatorsRights(t *testing.T) {
	f := newFixture()
	anyRecord := Query{}
	someoneElses := Query{Owner: f.you, OwnerKnown: true}
	onR2 := Query{Resource: f.r2, HasResource: true}
	tests := []struct {
		name       string
		key        *Member // the key, as its role compiles it
		creator    *Member
		permission string
		q          Query
		allowed    bool
		reason     Reason
		role       string // the narrowed member's role
	}{
		{"an administrator's administrator key does all", f.member("admin"), f.member("admin"), "members.manage", anyRecord, true, Allowed, "admin"},
		{"a demoted creator's administrator key is no administrator", f.member("admin"), f.member("manager"), "roles.manage", anyRecord, false, DeniedNotGranted, "manager"},
		{"it keeps what both hold", f.member("admin"), f.member("manager"), "members.manage", anyRecord, true, Allowed, "manager"},
		{"a manager's key has no more than its role", f.member("guest"), f.member("manager"), "members.manage", anyRecord, false, DeniedNotGranted, "guest"},
		{"the narrower scope wins", f.member("admin"), f.member("collaborator"), "records.edit", someoneElses, false, DeniedScope, "collaborator"},
		{"a creator limited to assigned resources limits the key", f.member("admin"), f.member("collaborator"), "records.view", onR2, false, DeniedResourceNotAssigned, "collaborator"},
		{"a suspended creator stops the key", f.member("admin"), f.member("admin", func(in *Input) { in.Status = MemberSuspended }), "members.view", anyRecord, false, DeniedMemberSuspended, "admin"},
		{"a creator denied a permission by an override denies the key", f.member("manager"),
			f.member("manager", overrides(Override{Permission: "members.manage", Allow: false})), "members.manage", anyRecord, false, DeniedNotGranted, "manager"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := f.c.Narrow(tt.key, tt.creator)
			d := f.c.Check(n, f.acct, tt.permission, tt.q)
			if d.Allowed != tt.allowed || d.Reason != tt.reason {
				t.Errorf("%s: %v %s, want %v %s", tt.permission, d.Allowed, d.Reason, tt.allowed, tt.reason)
			}
			if n.RoleKey() != tt.role {
				t.Errorf("role %s, want %s", n.RoleKey(), tt.role)
			}
			// Never more than either, permission by permission.
			for i := range f.c.Permissions {
				if n.Set().Has(i) && (!tt.key.Set().Has(i) || !tt.creator.Set().Has(i)) {
					t.Errorf("the narrowed key holds %s, which one of them lacks", f.c.Permissions[i].Key)
				}
				if n.Set().Has(i) && (n.Set().Scope(i) > tt.key.Set().Scope(i) || n.Set().Scope(i) > tt.creator.Set().Scope(i)) {
					t.Errorf("the narrowed key holds %s at a broader scope than one of them", f.c.Permissions[i].Key)
				}
			}
			if ok, missing := f.c.CoversMember(tt.creator, n); tt.creator.Blocked() == "" && !ok && tt.creator.RoleKey() != equipe.RoleAdmin {
				t.Errorf("the creator does not cover the narrowed key: %v", missing)
			}
		})
	}
}
