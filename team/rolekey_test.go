package team_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

func TestRoleKey_IsALowerCaseASCIISlugOfTheName(t *testing.T) {
	for name, want := range map[string]string{
		"Comptable":                        "comptable",
		"Comptabilité générale":            "comptabilite_generale",
		"  Chef d'équipe — Île-de-France ": "chef_d_equipe_ile_de_france",
		"Cœur de métier":                   "coeur_de_metier",
		"Straße":                           "strasse",
		"2e niveau":                        "role_2e_niveau",
		"!!!":                              "role",
		"会計":                               "role",
		"ÉLÈVE":                            "eleve",
		strings.Repeat("abcdefghij ", 6):   "abcdefghij_abcdefghij_abcdefghij_abc",
		"abcdefghij abcdefghij abcdefghij abcdefghij": "abcdefghij_abcdefghij_abcdefghij_abc",
		"abcdefghij abcdefghij abcdefghij a bcdef":    "abcdefghij_abcdefghij_abcdefghij_a_b",
		"abcdefghij abcdefghij abcdefghij ab cdef":    "abcdefghij_abcdefghij_abcdefghij_ab",
	} {
		got := team.RoleKey(name)
		if got != want {
			t.Errorf("RoleKey(%q) = %q, want %q", name, got, want)
		}
		if !access.ValidKey(got) || len(got) > 36 {
			t.Errorf("RoleKey(%q) = %q is no key", name, got)
		}
	}
}

// TestCreateRole_WithoutAKeyDerivesItFromTheNameInOneLanguage: a role made
// with a name only gets the key of that name, accents removed, with a
// suffix when the account (or the catalogue) already has it; one language
// is enough, and the other shows it.
func TestCreateRole_WithoutAKeyDerivesItFromTheNameInOneLanguage(t *testing.T) {
	tests := []struct {
		name    string
		before  []team.RoleInput // roles made first
		in      team.RoleInput
		key     string
		fr, en  string // the role's name as each language shows it
		refusal string
	}{
		{name: "from the French name, accents removed", in: team.RoleInput{LabelFR: "Comptabilité générale"},
			key: "comptabilite_generale", fr: "Comptabilité générale", en: "Comptabilité générale"},
		{name: "from the English name alone", in: team.RoleInput{LabelEN: "Front desk"},
			key: "front_desk", fr: "Front desk", en: "Front desk"},
		{name: "the French name when both are given", in: team.RoleInput{LabelFR: "Caissier", LabelEN: "Cashier"},
			key: "caissier", fr: "Caissier", en: "Cashier"},
		{name: "a key taken in the account gets a suffix",
			before: []team.RoleInput{{Key: "comptable", LabelFR: "Comptable"}, {Key: "comptable_2", LabelFR: "Comptable bis"}},
			in:     team.RoleInput{LabelFR: "Comptable"}, key: "comptable_3", fr: "Comptable", en: "Comptable"},
		{name: "a built-in role's key gets a suffix", in: team.RoleInput{LabelEN: "Manager"},
			key: "manager_2", fr: "Manager", en: "Manager"},
		{name: "a key given is kept", in: team.RoleInput{Key: "desk", LabelEN: "Front desk"},
			key: "desk", fr: "Front desk", en: "Front desk"},
		{name: "no name at all is refused", in: team.RoleInput{Key: "desk"}, refusal: "error.fields label_fr=role.label_required"},
		{name: "blank names are refused", in: team.RoleInput{LabelFR: "  ", LabelEN: " "}, refusal: "error.fields label_fr=role.label_required"},
	}
	eachBench(t, func(t *testing.T, b *bench) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := b.scene(t)
				for _, in := range tt.before {
					if _, err := s.s.CreateRole(ctx, s.admin(), s.account, in); err != nil {
						t.Fatal(err)
					}
				}
				var cr team.RoleView
				_, ok := s.done(t, tt.refusal, func() (err error) {
					cr, err = s.s.CreateRole(ctx, s.admin(), s.account, tt.in)
					return err
				})
				if !ok {
					return
				}
				if cr.Role.Key != tt.key {
					t.Fatalf("key %q, want %q", cr.Role.Key, tt.key)
				}
				rv, err := s.s.Role(ctx, s.admin(), s.account, tt.key)
				if err != nil {
					t.Fatal(err)
				}
				if fr, en := rv.Role.Label.In(equipe.LocaleFR), rv.Role.Label.In(equipe.LocaleEN); fr != tt.fr || en != tt.en {
					t.Errorf("shown as %q / %q, want %q / %q", fr, en, tt.fr, tt.en)
				}
			})
		}
	})
}
