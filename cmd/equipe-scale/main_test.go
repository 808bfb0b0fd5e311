package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe/app/apptest"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
)

// TestScale_SeedsAPopulationTheServiceServes runs the command on a small
// population (2,000 users over 200 accounts) on each engine: it seeds a
// fresh database, starts the real binary and runs a short check mix over
// two working sets without an error. Then, on the seeded data, a member
// logs in with the seeded password and checks answer what the roles,
// suspensions and assigned resources say, through the API as its document
// describes it.
func TestScale_SeedsAPopulationTheServiceServes(t *testing.T) {
	ctx := context.Background()
	bin, err := buildEquipe(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			cfg := storetest.Config(t, e)
			args := []string{"--accounts", "200", "--binary", bin, "--pairs", "64,2000", "--conns", "4",
				"--warmup", "100ms", "--duration", "300ms", "--full-pass"}
			if cfg.URL == "" {
				args = append(args, "--data", cfg.DataDir)
			} else {
				args = append(args, "--database-url", cfg.URL)
				cfg.DataDir = t.TempDir()
			}
			var out, log bytes.Buffer
			if err := run(ctx, args, &out, &log); err != nil {
				t.Fatalf("run: %v\n%s\n%s", err, out.String(), log.String())
			}
			t.Logf("\n%s", out.String())
			lines := regexp.MustCompile(`(?m)^\| `+string(e)+` \| default \| (\d+) \| (\d+) \|.*\| (\d+) % \| (\d+) \| (\d+) \| \d+ \| ([\d.]+) % \| (\d+) \|.*$`).
				FindAllStringSubmatch(out.String(), -1)
			if len(lines) != 2 || lines[0][1] != "64" || lines[1][1] != "2000" {
				t.Fatalf("want a line for 64 pairs and one for 2000, got %q in\n%s", lines, out.String())
			}
			for _, l := range lines {
				rate, _ := strconv.Atoi(l[2])
				allowed, _ := strconv.Atoi(l[3])
				errs, _ := strconv.Atoi(l[4])
				rss, _ := strconv.Atoi(l[5])
				hits, _ := strconv.ParseFloat(l[6], 64)
				entries, _ := strconv.Atoi(l[7])
				// Some checks allow and some deny: the mix asks real
				// questions of real members.
				if rate == 0 || errs != 0 || allowed == 0 || allowed == 100 || rss == 0 {
					t.Errorf("line %q: want checks, none in error, some allowed and some not, and an RSS", l[0])
				}
				// The cache's own figures: the members asked about are
				// cached, and asked again, found there.
				if entries == 0 || hits == 0 {
					t.Errorf("line %q: want cache entries and hits", l[0])
				}
			}
			if !strings.Contains(out.String(), "accounts 200, users 2000, resources 800, members 2000, member_resources 1500,") {
				t.Errorf("seeded rows not reported as expected:\n%s", out.String())
			}
			assertDerived(t, cfg)
			assertServed(t, ctx, bin, cfg)
		})
	}
}

// assertDerived checks what the schema keeps beside the rows the seeder
// writes, which the load computes in bulk rather than through the triggers:
// the member counts, account by account and status by status, the search
// keys, and when each role's holders last changed, the same as the
// triggers would have made; that the triggers
// and the foreign keys are back for the service's own writes; and, on
// SQLite, that every foreign key holds (the loader did not check them).
func assertDerived(t *testing.T, cfg store.Config) {
	t.Helper()
	db := storetest.Raw(t, cfg)
	var counted, members, wrong int
	if err := db.QueryRow(`SELECT (SELECT SUM(n) FROM member_counts), (SELECT COUNT(*) FROM members)`).Scan(&counted, &members); err != nil {
		t.Fatal(err)
	}
	if counted != 2000 || members != 2000 {
		t.Errorf("member_counts add up to %d and members are %d, want 2000", counted, members)
	}
	// Every (account, status) counted as many times as it has members, no
	// count for none (a full outer join, written for both engines).
	if err := db.QueryRow(`SELECT COUNT(*) FROM (
		SELECT m.account_id FROM (SELECT account_id, status, COUNT(*) AS n FROM members GROUP BY account_id, status) m
		LEFT JOIN member_counts c ON c.account_id = m.account_id AND c.status = m.status WHERE c.n IS NULL OR c.n <> m.n
		UNION ALL
		SELECT c.account_id FROM member_counts c WHERE c.n <> 0 AND NOT EXISTS (
			SELECT 1 FROM members m WHERE m.account_id = c.account_id AND m.status = c.status)) AS w`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d (account, status) counts differ from the members", wrong)
	}
	// Every role held in an account has the time its holders last changed,
	// their latest change; none other, and no member without a time.
	if err := db.QueryRow(`SELECT COUNT(*) FROM (
		SELECT m.account_id FROM (SELECT account_id, role, MAX(updated_at) AS at FROM members GROUP BY account_id, role) m
		LEFT JOIN role_members_changed c ON c.account_id = m.account_id AND c.role = m.role WHERE c.at IS NULL OR c.at <> m.at
		UNION ALL
		SELECT c.account_id FROM role_members_changed c WHERE NOT EXISTS (
			SELECT 1 FROM members m WHERE m.account_id = c.account_id AND m.role = c.role)
		UNION ALL
		SELECT account_id FROM members WHERE updated_at < created_at OR updated_at = 0) AS w`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d roles' or members' times of change differ from the members", wrong)
	}
	d := dataset{Accounts: 200, PerAccount: 10, Resources: 4, Base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var suspended, want int
	for u := range d.Users() {
		if d.Suspended(u) {
			want++
		}
	}
	if err := db.QueryRow(`SELECT SUM(n) FROM member_counts WHERE status = 'suspended'`).Scan(&suspended); err != nil || suspended != want {
		t.Errorf("%d suspended members counted (%v), want %d", suspended, err, want)
	}
	if cfg.URL == "" {
		if err := db.QueryRow(`SELECT COUNT(*) FROM members m LEFT JOIN member_search_keys k ON k.account_id = m.account_id AND k.user_id = m.user_id
			WHERE k.words IS NULL OR k.words <> m.first_key || ' ' || m.last_key || ' ' || m.email_key`).Scan(&wrong); err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Errorf("%d members without their search keys", wrong)
		}
		if _, err := db.Exec(`INSERT INTO member_search (member_search, rank) VALUES ('integrity-check', 1)`); err != nil {
			t.Errorf("the member search's index does not match its keys: %v", err)
		}
	}
	// The service's writes find the triggers (and on PostgreSQL the
	// foreign keys) back: user 0 joins account 150.
	defer func() {
		if _, err := db.Exec(`DELETE FROM members WHERE account_id = $1 AND user_id = $2`, d.AccountID(150).String(), d.UserID(0).String()); err != nil {
			t.Error(err)
		}
	}()
	const later = 4102444800000000 // 2100, in microseconds
	if _, err := db.Exec(`INSERT INTO members (account_id, user_id, role, status, created_at, updated_at, first_key, last_key, email_key)
		VALUES ($1, $2, 'guest', 'invited', 0, $3, 'zyqxw', 'zyqxw', 'zyqxw@example.com')`, d.AccountID(150).String(), d.UserID(0).String(), later); err != nil {
		t.Fatal(err)
	}
	var changed int64
	if err := db.QueryRow(`SELECT at FROM role_members_changed WHERE account_id = $1 AND role = 'guest'`, d.AccountID(150).String()).Scan(&changed); err != nil || changed != later {
		t.Errorf("a member added after the load does not move their role's time: %d (%v)", changed, err)
	}
	var invited int
	if err := db.QueryRow(`SELECT n FROM member_counts WHERE account_id = $1 AND status = 'invited'`, d.AccountID(150).String()).Scan(&invited); err != nil || invited != 1 {
		t.Errorf("a member added after the load is not counted: %d (%v)", invited, err)
	}
	if cfg.URL != "" {
		if _, err := db.Exec(`INSERT INTO member_resources (account_id, user_id, resource_id) VALUES ($1, $2, $3)`,
			d.AccountID(150).String(), d.UserID(0).String(), d.StrangerID(1).String()); err == nil {
			t.Error("a member's resource that does not exist was stored: the foreign keys are not back")
		}
		var enabled string
		if err := db.QueryRow(`SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'users'::regclass AND tgname = 'users_email_reserved'`).Scan(&enabled); err != nil || enabled != "O" {
			t.Errorf("the trigger that keeps an old address its identity's is %q (%v) after the load, want enabled", enabled, err)
		}
		return
	}
	var found int
	if err := db.QueryRow(`SELECT COUNT(*) FROM member_search WHERE member_search MATCH '"yqxw"'`).Scan(&found); err != nil || found != 1 {
		t.Errorf("a member added after the load is not found by the search: %d (%v)", found, err)
	}
	var keys int
	if err := db.QueryRow(`SELECT COUNT(*) FROM member_search WHERE member_search MATCH '"scale.example"'`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != 2000 {
		t.Errorf("the member search finds %d members by their address, want 2000", keys)
	}
	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check finds rows whose foreign key does not hold")
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q (%v), want wal", mode, err)
	}
}

// assertServed starts the service on the seeded database and asks it.
func assertServed(t *testing.T, ctx context.Context, bin string, cfg store.Config) {
	t.Helper()
	d := dataset{Accounts: 200, PerAccount: 10, Resources: 4, Base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	key, err := addInstanceKey(ctx, cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	c, err := startChild(ctx, bin, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	base := "http://" + c.addr
	client := &http.Client{Timeout: 10 * time.Second, Transport: apptest.Checking(
		func() (*apptest.Contract, error) { return apptest.ServedContract(base) }, nil, func(err error) { t.Error(err) })}
	post := func(path, bearer string, body any) (int, map[string]any) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}

	// User 12 (account 1, a manager) logs in with the seeded password.
	status, session := post("/api/v1/session", "", map[string]string{"email": d.Email(12), "password": "scale-password-2026"})
	if status != 200 || session["token"] == "" {
		t.Errorf("login of %s: %d %v", d.Email(12), status, session)
	}
	status, _ = post("/api/v1/session", "", map[string]string{"email": d.Email(12), "password": "not-the-password-2026"})
	if status != 401 {
		t.Errorf("login with a wrong password: %d, want 401", status)
	}

	check := func(u, account int, perm string, resource int) (bool, string) {
		t.Helper()
		q := map[string]any{"user_id": d.UserID(u).String(), "account_id": d.AccountID(account).String(), "permission": perm}
		if resource >= 0 {
			q["resource_id"] = d.ResourceID(account, resource).String()
		}
		status, a := post("/api/v1/check", key, q)
		if status != 200 {
			t.Fatalf("check %v: %d %v", q, status, a)
		}
		allowed, _ := a["allowed"].(bool)
		return allowed, fmt.Sprint(a["reason"])
	}
	for _, c := range []struct {
		name           string
		user, account  int
		perm           string
		resource       int
		allowed        bool
		reasonContains string
	}{
		{"an administrator manages members", 20, 2, "members.manage", -1, true, ""},
		{"a guest does not", 28, 2, "members.manage", -1, false, ""},
		{"a collaborator sees the team through their assigned resource", 25, 2, "members.view", d.Assignment(25, 0), true, ""},
		{"but not through another", 25, 2, "members.view", (d.Assignment(25, 0) + 1) % 4, false, ""},
		{"a suspended member may nothing", 57, 5, "members.view", -1, false, "suspended"},
		{"a member of one account is none of another", 20, 3, "members.view", -1, false, "member"},
	} {
		allowed, reason := check(c.user, c.account, c.perm, c.resource)
		if allowed != c.allowed || !strings.Contains(reason, c.reasonContains) {
			t.Errorf("%s: allowed %v (%s), want %v (%s)", c.name, allowed, reason, c.allowed, c.reasonContains)
		}
	}
}
