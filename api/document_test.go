package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

// TestDocumentFor_NamesTheBrandInProseAndKeepsIdentifiers: the document a
// branded instance serves is valid JSON, titled with the brand's name,
// whose sentences name the brand; "equipe" is left only in the
// identifiers programs depend on.
func TestDocumentFor_NamesTheBrandInProseAndKeepsIdentifiers(t *testing.T) {
	if !bytes.Equal(DocumentFor("equipe", "equipe_"), openAPIDoc) || !bytes.Equal(DocumentFor("", ""), openAPIDoc) {
		t.Error("the default brand's document is not the built-in one")
	}
	raw := DocumentFor(`Acme "Cloud"`, "acme_")
	var doc struct {
		Info struct {
			Title string `json:"title"`
		} `json:"info"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Info.Title != `Acme "Cloud" API` {
		t.Errorf("title %q", doc.Info.Title)
	}
	rest := string(raw)
	for _, id := range []string{"__Host-equipe_session", "equipe_session", "urn:equipe:problem:", "equipe.user-export/1"} {
		if !strings.Contains(rest, id) {
			t.Errorf("the identifier %s is gone", id)
		}
		rest = strings.ReplaceAll(rest, id, "")
	}
	if i := strings.Index(strings.ToLower(rest), "equipe"); i >= 0 {
		t.Errorf("the document still says equipe: …%s…", rest[max(0, i-80):min(len(rest), i+40)])
	}
	if !strings.Contains(string(raw), `log people in with Acme \"Cloud\" as their OpenID Connect provider`) {
		t.Error("the prose does not name the brand")
	}
	// The keys' prefix and the realm follow the brand.
	if !strings.Contains(string(raw), `"An API key (acme_…): `) {
		t.Error("the API keys' description does not give the brand's prefix")
	}
	if !strings.Contains(string(raw), "`Bearer realm=\\\"Acme \\\\\\\"Cloud\\\\\\\"\\\"`") {
		t.Error("the WWW-Authenticate challenge does not give the brand's realm")
	}
	// A brand that keeps the name but changes the prefix.
	if raw := DocumentFor("equipe", "acme_"); !strings.Contains(string(raw), `"An API key (acme_…): `) || bytes.Contains(raw, []byte(`equipe_\u2026`)) {
		t.Error("the default name with a prefix of its own does not describe that prefix")
	}
}
