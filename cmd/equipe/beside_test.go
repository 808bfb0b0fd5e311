package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// TestImportMembers_TheServiceOnTheSameSQLiteFileAnswersWithWhatItChanged
// serves on SQLite and runs import-members beside it on the same file, as
// docs/operations.md shows: the import makes an administrator a
// collaborator, and the service's checks, which had it cached, answer with
// the collaborator's permissions as soon as the service heard of it.
func TestImportMembers_TheServiceOnTheSameSQLiteFileAnswersWithWhatItChanged(t *testing.T) {
	ctx := context.Background()
	served := apptest.Start(t, store.SQLite, apptest.Options{})
	account := equipe.NewID()
	if err := served.App.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Acme", Locale: "fr", InvitationTTLHours: 168,
			CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.CreateResource(ctx, &equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "product", Name: "Paie",
			CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	owner := served.AddMember(t, account, "owner@b.example", "admin", equipe.MemberActive)
	grace := served.AddMember(t, account, "grace@b.example", "admin", equipe.MemberActive)
	check := func() string {
		t.Helper()
		d, err := served.App.Team.Check(ctx, team.Actor{User: &owner.User},
			team.CheckQuery{User: grace.User.ID, Account: account, Permission: "members.manage"})
		if err != nil {
			t.Fatal(err)
		}
		return string(d.Reason)
	}
	if r := check(); r != "allowed" {
		t.Fatalf("before the import: %s", r)
	}
	file := filepath.Join(t.TempDir(), "members.csv")
	if err := os.WriteFile(file, []byte("email,role,resources\ngrace@b.example,collaborator,Paie\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := store.MemberKey(account, grace.User.ID)
	heard := served.Heard(key)
	var out strings.Builder
	if err := run(ctx, []string{"import-members", "--account", account.String(), file}, nil, &out, io.Discard,
		env(map[string]string{"EQUIPE_DATA": served.DB.DataDir})); err != nil || !strings.Contains(out.String(), "1 updated") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	served.AwaitHeard(t, key, heard)
	if r := check(); r == "allowed" {
		t.Errorf("after the import, the service still answers %s", r)
	}
}
