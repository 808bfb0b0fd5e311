package api_test

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
)

// TestCatalogue_AnyoneReadsTheCatalogueTheInstanceRunsWith: the catalogue
// is answered without credentials, as the instance loaded it (groups,
// permissions with their labels and scopes, resource types, the built-in
// roles as an account lists them, job titles), and may be cached for a
// minute; a query parameter it does not take is refused.
func TestCatalogue_AnyoneReadsTheCatalogueTheInstanceRunsWith(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		cat := env.App.Catalogue
		r := call(t, c, "GET", env.URL+"/api/v1/catalogue", nil)
		if r.Status != 200 || r.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Fatalf("catalogue: %d %v %s", r.Status, r.Header, r.Raw)
		}
		groups, perms := r.JSON["groups"].([]any), r.JSON["permissions"].([]any)
		types, roles, titles := r.JSON["resource_types"].([]any), r.JSON["roles"].([]any), r.JSON["job_titles"].([]any)
		if len(groups) != len(cat.Groups) || len(perms) != len(cat.Permissions) || len(types) != len(cat.ResourceTypes) ||
			len(roles) != len(cat.Roles) || len(titles) != len(cat.JobTitles) || len(perms) == 0 || len(roles) == 0 {
			t.Fatalf("the catalogue answered is not the instance's: %s", r.Raw)
		}
		for i, p := range cat.Permissions {
			got := perms[i].(map[string]any)
			label := got["label"].(map[string]any)
			if got["key"] != p.Key || got["group"] != p.Group || label["en"] != p.Label.In(equipe.LocaleEN) ||
				label["fr"] != p.Label.In(equipe.LocaleFR) || (got["scopes"] != nil) != p.Scoped() {
				t.Errorf("permission %s: %v", p.Key, got)
			}
		}
		var edit map[string]any
		for _, p := range perms {
			if p.(map[string]any)["key"] == "records.edit" {
				edit = p.(map[string]any)
			}
		}
		if fmtAny(edit["scopes"]) != "[all owned_or_unassigned owned]" || edit["default_scope"] != "owned_or_unassigned" {
			t.Errorf("a scoped permission: %v", edit)
		}
		for i, ty := range cat.ResourceTypes {
			if got := types[i].(map[string]any); got["key"] != ty.Key || got["required"] != ty.Required {
				t.Errorf("resource type %s: %v", ty.Key, got)
			}
		}

		// The built-in roles are those an account lists, without their
		// members and actions.
		a := newTenant(t, env, "owner@a.example")
		listed := map[string]map[string]any{}
		for _, it := range call(t, c, "GET", a.url("/roles?limit=100"), nil, bearer(a.admin)...).JSON["items"].([]any) {
			listed[it.(map[string]any)["key"].(string)] = it.(map[string]any)
		}
		for i, ro := range cat.Roles {
			got := roles[i].(map[string]any)
			want := listed[ro.Key]
			if got["key"] != ro.Key || got["built_in"] != true || got["members"] != nil || got["actions"] != nil || want == nil ||
				fmtAny(got["permissions"]) != fmtAny(want["permissions"]) || fmtAny(got["label"]) != fmtAny(want["label"]) {
				t.Errorf("role %s: %v, listed %v", ro.Key, got, want)
			}
		}

		// A credential changes nothing; a parameter it does not take is
		// refused.
		if again := call(t, c, "GET", env.URL+"/api/v1/catalogue", nil, bearer(a.admin)...); again.Status != 200 ||
			fmtAny(again.JSON) != fmtAny(r.JSON) {
			t.Errorf("catalogue with a session: %d %s", again.Status, again.Raw)
		}
		if r := call(t, c, "GET", env.URL+"/api/v1/catalogue?lang=fr", nil); r.Status != 400 || r.code() != "request.unknown_parameter" {
			t.Errorf("an unknown parameter: %d %s", r.Status, r.Raw)
		}
	})
}
