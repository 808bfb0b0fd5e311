package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_ABadTemplateFolderOrAPaleColourStopsTheStart: the start is
// refused with one line naming the setting, and the file and line at fault.
func TestServe_ABadTemplateFolderOrAPaleColourStopsTheStart(t *testing.T) {
	data := t.TempDir()
	templates := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(templates, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("welcome.en.tmpl", `{{define "subject"}}Welcome{{end}}{{define "text"}}Hi{{end}}{{define "html"}}Hi{{end}}`)
	write("welcome.fr.tmpl", "{{define \"subject\"}}Bienvenue{{end}}\n{{define \"text\"}}Bonjour {{.Prenom}}{{end}}{{define \"html\"}}Bonjour{{end}}")
	for _, c := range []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{"EQUIPE_TEMPLATES_DIR": templates},
			[]string{"EQUIPE_TEMPLATES_DIR (--templates-dir): " + templates + ": ", `welcome.fr.tmpl:2:`, `no variable "Prenom"`}},
		{map[string]string{"EQUIPE_BRAND_PRIMARY": "#a0c4ff"},
			[]string{"EQUIPE_BRAND_PRIMARY (--brand-primary): white text on #a0c4ff has a contrast of 1.77:1", "below the 4.5:1 WCAG AA"}},
	} {
		vars := map[string]string{"EQUIPE_DATA": data}
		for k, v := range c.vars {
			vars[k] = v
		}
		err := run(context.Background(), []string{"serve"}, nil, io.Discard, io.Discard, env(vars))
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%v: error %v, want one line", c.vars, err)
		}
		for _, want := range c.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v: error %q lacks %q", c.vars, err, want)
			}
		}
	}
}
