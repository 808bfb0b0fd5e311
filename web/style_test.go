package web_test

import (
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/brand"
)

// TestStyle_LinksAreWrittenInTheColourThatKeepsItsContrastOnTheGrey: the
// pages' grey is the one brand.OnPage darkens links for, links (the sort
// links of the tables' headers too) are written in --primary-on-bg, and the
// brand's stylesheet sets it.
func TestStyle_LinksAreWrittenInTheColourThatKeepsItsContrastOnTheGrey(t *testing.T) {
	env := apptest.Start(t, "sqlite", apptest.Options{})
	css := get(t, env.Client(), env.URL+"/static/style.css")
	def, _ := brand.ParseColour(brand.Default().Primary)
	for _, want := range []string{"--bg: " + brand.Page + ";", "--primary-on-bg: " + brand.OnPage(def).String() + ";",
		"a { color: var(--primary-on-bg); }", "th[aria-sort] a.sort { color: var(--primary-on-bg); }"} {
		if css.Status != 200 || !strings.Contains(css.Body, want) {
			t.Errorf("style.css lacks %q (%d)", want, css.Status)
		}
	}
	if strings.Contains(css.Body, "a { color: var(--primary); }") {
		t.Error("links are written in --primary")
	}
}
