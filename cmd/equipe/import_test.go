package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

func TestImportMembers_ChecksThenImportsWithAProgressBar(t *testing.T) {
	dir := t.TempDir()
	vars := env(map[string]string{"EQUIPE_DATA": dir, "EQUIPE_LOG_FORMAT": "json"})
	ctx := context.Background()
	if err := run(ctx, []string{"migrate"}, nil, io.Discard, io.Discard, vars); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	account := equipe.NewID()
	err = db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Acme", Locale: "fr", InvitationTTLHours: 168, CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.CreateResource(ctx, &equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "product", Name: "Paie", CreatedAt: time.Now()})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.csv", "email;prénom;rôle;ressources\nada@b.example;Ada;collaborator;Paie\nnope;Bob;wizard;Paie\n")
	var out strings.Builder
	err = run(ctx, []string{"import-members", "--account", account.String(), "--lang", "fr", bad}, nil, &out, io.Discard, vars)
	if err == nil || !strings.Contains(err.Error(), "nothing was imported") ||
		!strings.Contains(out.String(), "line 3, email: ") || !strings.Contains(out.String(), "line 3, role: Ce rôle n") {
		t.Fatalf("bad file: %v\n%s", err, out.String())
	}
	var good strings.Builder
	good.WriteString("email,first_name,role,resources,send_invitation\n")
	for i := range 250 {
		fmt.Fprintf(&good, "m%d@b.example,Ana,collaborator,Paie,yes\n", i)
	}
	file := write("good.csv", good.String())
	out.Reset()
	if err := run(ctx, []string{"import-members", "--account", account.String(), "--dry-run", file}, nil, &out, io.Discard, vars); err != nil ||
		!strings.Contains(out.String(), "250 rows: 250 to add") {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	out.Reset()
	var bar strings.Builder
	if err := run(ctx, []string{"import-members", file, "--account", account.String()}, nil, &out, &bar, vars); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	// The bar moves once a batch: at least once before the end.
	if !strings.Contains(out.String(), "done: 250 added, 0 updated, 0 unchanged, 0 skipped") ||
		strings.Count(bar.String(), "/250") < 2 || !strings.Contains(bar.String(), "["+strings.Repeat("#", 40)+"] 250/250") {
		t.Fatalf("import:\n%s\n%q", out.String(), bar.String())
	}
	// Again: everyone is a member already, with what the file says.
	out.Reset()
	if err := run(ctx, []string{"import-members", "--account", account.String(), file}, nil, &out, io.Discard, vars); err != nil ||
		!strings.Contains(out.String(), "0 added, 0 updated, 250 unchanged") {
		t.Fatalf("second import: %v\n%s", err, out.String())
	}
}
