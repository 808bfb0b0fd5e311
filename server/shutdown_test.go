package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// TestServe_ChecksNotYetSummedUpAreLoggedAtShutdown stops the service a
// moment after successful checks, long before their summary of the minute
// is due: the summary is written as it shuts down, with the period it
// covers.
func TestServe_ChecksNotYetSummedUpAreLoggedAtShutdown(t *testing.T) {
	env := apptest.Start(t, store.SQLite, apptest.Options{})
	ctx := context.Background()
	account := equipe.NewID()
	err := env.App.DB.Write(ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Shutdown", Locale: "en",
			InvitationTTLHours: equipe.DefaultInvitationTTLHours, CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	admin := env.AddMember(t, account, "ada@shutdown.example", "admin", equipe.MemberActive)
	_, key, err := env.App.Team.CreateKey(ctx, team.Actor{User: &admin.User}, &account, team.NewKey{Name: "checks", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		req, _ := http.NewRequest("POST", env.URL+"/api/v1/check", strings.NewReader(`{"user_id":"`+admin.User.ID.String()+
			`","account_id":"`+account.String()+`","permission":"members.view"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("check: %d", res.StatusCode)
		}
	}
	if strings.Contains(env.Logs(), `"msg":"requests"`) {
		t.Fatalf("checks summed up before their minute:\n%s", env.Logs())
	}
	if err := env.Stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	for line := range strings.Lines(env.Logs()) {
		if strings.Contains(line, `"msg":"requests"`) && strings.Contains(line, `"path":"/api/v1/check","count":3,`) {
			if strings.Contains(line, `"period_s":60,`) {
				t.Errorf("the summary written at shutdown claims a whole period: %s", line)
			}
			return
		}
	}
	t.Fatalf("no summary of the 3 checks at shutdown:\n%s", env.Logs())
}
