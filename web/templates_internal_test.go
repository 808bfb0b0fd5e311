package web

import (
	"testing"

	"github.com/equipe-dev/equipe"
)

// TestTemplates_EveryPageParsesInEveryLanguage parses each page's
// templates, which the service does only when a page is first shown: a
// page that does not parse fails here rather than in front of someone.
func TestTemplates_EveryPageParsesInEveryLanguage(t *testing.T) {
	w := &Web{}
	if err := w.parse(); err != nil {
		t.Fatal(err)
	}
	if len(w.pages) < 40 {
		t.Fatalf("only %d pages found", len(w.pages))
	}
	for name := range w.pages {
		for _, l := range equipe.Locales {
			tpl, err := w.template(name, l)
			if err != nil {
				t.Errorf("%s (%s): %v", name, l, err)
				continue
			}
			if tpl.Lookup("layout") == nil || tpl.Lookup("auth") == nil {
				t.Errorf("%s (%s): the frames are missing", name, l)
			}
		}
	}
	if _, err := w.template("no-such-page", equipe.LocaleFR); err == nil {
		t.Error("an unknown page has templates")
	}
}
