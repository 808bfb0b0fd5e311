package api_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

const brandLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#123456"/></svg>`

// TestInstanceBrand_AnInstanceKeyReadsAndChangesTheBrandOthersAreRefused:
// the brand in force is read and changed by an instance key; a bad setting
// is refused naming its field and changes nothing; a reset restores the
// configured setting; an account's administrator and a person may do
// neither.
func TestInstanceBrand_AnInstanceKeyReadsAndChangesTheBrandOthersAreRefused(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		_, key, err := env.App.Team.CreateKey(t.Context(), instanceActor(t, env), nil, teamNewKey("vendor backend"))
		if err != nil {
			t.Fatal(err)
		}
		url := env.URL + "/api/v1/instance/brand"

		configured := call(t, c, "GET", url, nil, bearer(key)...)
		if configured.Status != 200 || configured.JSON["name"] == "" || len(configured.JSON["stored"].([]any)) != 0 ||
			configured.JSON["updated_at"] != nil || configured.JSON["logo"] != nil {
			t.Fatalf("the configured brand: %d %s", configured.Status, configured.Raw)
		}

		// A bad setting names its field, and nothing changes.
		r := call(t, c, "PATCH", url, map[string]any{"name": "Vendor", "primary": "#ffff00", "support_url": "ftp://x",
			"key_prefix": "Bad-", "reset": []string{"colour"}}, bearer(key)...)
		if fc := r.fieldCodes(); r.Status != 422 || r.code() != "error.fields" || fc["primary"] != "brand.contrast_low" ||
			fc["support_url"] != "brand.url_invalid" || fc["key_prefix"] != "brand.key_prefix_invalid" || fc["reset"] != "brand.field_unknown" {
			t.Errorf("bad settings: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "PATCH", url, map[string]any{"logo": base64.StdEncoding.EncodeToString([]byte("not an image"))},
			bearer(key)...); r.Status != 422 || r.fieldCodes()["logo"] != "brand.image_kind" {
			t.Errorf("a logo that is no image: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "PATCH", url, map[string]any{"colour": "#000000"}, bearer(key)...); r.Status != 400 {
			t.Errorf("an unknown member: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", url, nil, bearer(key)...); r.Status != 200 || string(r.Raw) != string(configured.Raw) {
			t.Errorf("a refusal changed the brand: %s", r.Raw)
		}

		// The settings given are stored over the configuration.
		r = call(t, c, "PATCH", url, map[string]any{"name": "Vendor Teams", "primary": "#123456", "support_email": "help@vendor.example",
			"logo": base64.StdEncoding.EncodeToString([]byte(brandLogo))}, bearer(key)...)
		logo, _ := r.JSON["logo"].(map[string]any)
		if r.Status != 200 || r.JSON["name"] != "Vendor Teams" || r.JSON["primary"] != "#123456" ||
			r.JSON["support_email"] != "help@vendor.example" || r.JSON["accent"] != configured.JSON["accent"] ||
			fmtAny(r.JSON["stored"]) != "[name logo primary support_email]" || r.JSON["updated_at"] == nil ||
			logo["type"] != "image/svg+xml" || logo["size"] != float64(len(brandLogo)) ||
			!strings.HasPrefix(logo["url"].(string), "/static/brand/logo?v=") {
			t.Fatalf("change: %d %s", r.Status, r.Raw)
		}
		if again := call(t, c, "GET", url, nil, bearer(key)...); string(again.Raw) != string(r.Raw) {
			t.Errorf("the change was not kept: %s", again.Raw)
		}
		if page := call(t, c, "GET", env.URL+"/login", nil); !strings.Contains(string(page.Raw), "Vendor Teams") {
			t.Errorf("the pages do not bear the new name: %d", page.Status)
		}

		// A reset restores the configured setting; a setting both given
		// and reset is reset.
		r = call(t, c, "PATCH", url, map[string]any{"name": "Other", "reset": []string{"name", "logo"}}, bearer(key)...)
		if r.Status != 200 || r.JSON["name"] != configured.JSON["name"] || r.JSON["logo"] != nil ||
			fmtAny(r.JSON["stored"]) != "[primary support_email]" {
			t.Errorf("reset: %d %s", r.Status, r.Raw)
		}

		// Only the instance's administrators and keys see or change it.
		a := newTenant(t, env, "owner@a.example")
		accountKey := a.key(t, "admin")
		for name, token := range map[string]string{"an account's administrator": a.admin, "an account key": accountKey} {
			if r := call(t, c, "GET", url, nil, bearer(token)...); r.Status != 403 || r.code() != "brand.instance_admin_only" {
				t.Errorf("read by %s: %d %s", name, r.Status, r.Raw)
			}
			if r := call(t, c, "PATCH", url, map[string]any{"name": "Mine"}, bearer(token)...); r.Status != 403 ||
				r.code() != "brand.instance_admin_only" {
				t.Errorf("change by %s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := call(t, c, "GET", url, nil); r.Status != 401 {
			t.Errorf("read by nobody: %d %s", r.Status, r.Raw)
		}
		if r := call(t, c, "GET", url, nil, bearer(key)...); r.JSON["name"] != configured.JSON["name"] ||
			fmtAny(r.JSON["stored"]) != "[primary support_email]" {
			t.Errorf("a refusal changed the brand: %s", r.Raw)
		}
	})
}
