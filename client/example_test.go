package client_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/client"
	"github.com/equipe-dev/equipe/store"
)

// exampleInstance starts an equipe instance on loopback for the examples,
// with an account, a manager in it and an administrator API key: what a
// vendor has once equipe is deployed.
func exampleInstance() (url, key string, account, manager equipe.ID, stop func()) {
	t := &exampleTB{}
	env := apptest.Start(t, store.SQLite, apptest.Options{})
	a := newAccount(t, env, "acme")
	m := env.AddMember(t, a.ID, "manager@acme.example", "manager", equipe.MemberActive)
	return env.URL, apiKey(t, env, &a.ID, "admin"), a.ID, m.User.ID, t.cleanup
}

// Example shows a vendor's backend deciding checks in process with a
// Checker, and seeing a change made through the API at once.
func Example() {
	url, key, account, manager, stop := exampleInstance()
	defer stop()
	ctx := context.Background()

	c, err := client.New(url, key)
	if err != nil {
		log.Fatal(err)
	}
	checker, err := c.NewChecker(ctx, client.CheckerOptions{StaleAfter: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer checker.Close()

	// May the manager edit a record they own? Their own record: yes.
	d, err := checker.Check(ctx, account, manager, "records.edit", access.Query{Owner: manager, OwnerKnown: true})
	fmt.Println(d.Allowed, d.Reason, err)

	// Suspended through the API: the Checker hears it from the change
	// stream and denies.
	applied := checker.Applied()
	if _, err := c.SuspendMember(ctx, account, manager); err != nil {
		log.Fatal(err)
	}
	<-applied
	d, err = checker.Check(ctx, account, manager, "records.edit", access.Query{Owner: manager, OwnerKnown: true})
	fmt.Println(d.Allowed, d.Reason, err)
	// Output:
	// true allowed <nil>
	// false denied_member_suspended <nil>
}

// ExampleClient_Check asks the service itself, over HTTP.
func ExampleClient_Check() {
	url, key, account, manager, stop := exampleInstance()
	defer stop()
	c, err := client.New(url, key)
	if err != nil {
		log.Fatal(err)
	}
	d, err := c.Check(context.Background(), client.CheckRequest{User: manager, Account: account, Permission: "billing.access"})
	fmt.Println(d.Allowed, d.Reason, err)
	// Output:
	// false denied_not_granted <nil>
}

// ExampleClient_AddMember adds a member and reads an API refusal's code.
func ExampleClient_AddMember() {
	url, key, account, _, stop := exampleInstance()
	defer stop()
	ctx := context.Background()
	c, err := client.New(url, key)
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.AddMember(ctx, account, client.NewMember{Email: "ada@acme.example", FirstName: "Ada", LastName: "Lovelace",
		Role: "collaborator"})
	fmt.Println(m.Email, m.Role, m.Status, err)
	_, err = c.AddMember(ctx, account, client.NewMember{Email: "ada@acme.example", FirstName: "Ada", LastName: "Lovelace",
		Role: "no_such_role"})
	var p *client.Problem
	if errorsAs(err, &p) {
		fmt.Println(p.Status, p.Code)
	}
	// Output:
	// ada@acme.example collaborator created <nil>
	// 422 error.fields
}

// exampleTB is the testing.TB the service of an example runs with: a
// failure ends the example.
type exampleTB struct {
	testing.TB // methods the examples' service does not use: none is called
	cleanups   []func()
}

func (t *exampleTB) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func (t *exampleTB) Cleanup(f func())  { t.cleanups = append(t.cleanups, f) }
func (t *exampleTB) Fatal(args ...any) { fmt.Fprintln(os.Stderr, args...); os.Exit(1) }
func (t *exampleTB) Fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}
func (t *exampleTB) Errorf(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
func (t *exampleTB) Helper()                        {}
func (t *exampleTB) Context() context.Context       { return context.Background() }
func (t *exampleTB) TempDir() string {
	d, _ := os.MkdirTemp("", "equipe-example")
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}
func (t *exampleTB) Name() string                 { return "Example" }
func (t *exampleTB) Logf(format string, a ...any) {}
func (t *exampleTB) Log(args ...any)              {}
