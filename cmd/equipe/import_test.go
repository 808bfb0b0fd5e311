package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/store/storetest"
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
	// One row has two problems: rows are counted as rows, problems as
	// problems.
	if !strings.Contains(out.String(), "2 rows: 1 to add, 0 to update, 0 unchanged, 1 with a problem\n") ||
		err.Error() != "2 problems: nothing was imported" {
		t.Fatalf("bad file's counts: %v\n%s", err, out.String())
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

// TestImportMembers_KilledMidwayThenResumedAppliesEveryRowOnce runs the
// real binary's import-members, kills it with SIGKILL once a few batches
// are done (most likely in the middle of the next one), and takes the import
// up with --resume in another process: every row is applied exactly once
// (one member, one member.added event, one invitation each), on both
// engines.
func TestImportMembers_KilledMidwayThenResumedAppliesEveryRowOnce(t *testing.T) {
	bin := buildEquipe(t)
	const n = 2000
	for _, engine := range storetest.Engines() {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Config(t, engine)
			// On PostgreSQL too, the secret key made at start goes to a
			// directory of the test's.
			env := append(processEnv(cfg), "EQUIPE_DATA="+t.TempDir())
			if cfg.DataDir != "" {
				env = processEnv(cfg)
			}
			migrate := exec.Command(bin, "migrate")
			migrate.Env = env
			if out, err := migrate.CombinedOutput(); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			db, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			account := equipe.NewID()
			err = db.Write(ctx, func(tx *store.Tx) error {
				if err := tx.CreateAccount(ctx, &equipe.Account{ID: account, Name: "Acme", Locale: "fr", InvitationTTLHours: 168,
					CreatedAt: time.Now()}); err != nil {
					return err
				}
				return tx.CreateResource(ctx, &equipe.Resource{ID: equipe.NewID(), AccountID: account, Type: "product", Name: "Paie",
					CreatedAt: time.Now()})
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			var file strings.Builder
			file.WriteString("email,first_name,role,resources,send_invitation\n")
			for i := range n {
				fmt.Fprintf(&file, "m%d@b.example,Ana,collaborator,Paie,%v\n", i, i%10 == 0)
			}
			path := filepath.Join(t.TempDir(), "members.csv")
			if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(bin, "import-members", "--account", account.String(), path)
			cmd.Env = env
			// On PostgreSQL the killed process's connections are named, so
			// that the test waits for the server to end them: a batch it
			// had sent may still commit (renewing its claim) until then.
			app := "killed-import-" + equipe.NewID().String()[24:]
			if cfg.URL != "" {
				u, err := url.Parse(cfg.URL)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				q.Set("application_name", app)
				u.RawQuery = q.Encode()
				cmd.Env = append(slices.Clone(env), "EQUIPE_DATABASE_URL="+u.String())
			}
			bar, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The bar is drawn after each batch commits: kill once two are.
			r := bufio.NewReader(bar)
			var seen string
			for {
				chunk, err := r.ReadString('\r')
				seen += chunk
				var done, total int
				if _, serr := fmt.Sscanf(chunk[strings.LastIndex(chunk, "]")+1:], " %d/%d", &done, &total); serr == nil && done >= 400 {
					break
				}
				if err != nil {
					cmd.Wait()
					t.Fatalf("the import ended before it was killed: %v\n%q", err, seen)
				}
			}
			raw := storetest.Raw(t, cfg)
			if cfg.URL != "" {
				var named int
				if err := raw.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&named); err != nil || named == 0 {
					t.Fatalf("the import's connections are not named %s: %d %v", app, named, err)
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, r)
			if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
				t.Fatalf("the import was not killed: %v", err)
			}

			if cfg.URL != "" {
				waitGone(t, raw, app)
			}
			var id equipe.ID
			var processed int
			if err := raw.QueryRow(`SELECT id, processed FROM member_imports WHERE account_id = $1`, account).Scan(&id, &processed); err != nil {
				t.Fatal(err)
			}
			if processed < 400 || processed >= n {
				t.Fatalf("the killed import recorded %d rows done", processed)
			}
			count := func(query string, args ...any) int {
				t.Helper()
				var c int
				if err := raw.QueryRow(query, args...).Scan(&c); err != nil {
					t.Fatal(err)
				}
				return c
			}
			// Only whole batches were kept: as many members as rows recorded.
			if got := count(`SELECT COUNT(*) FROM members WHERE account_id = $1`, account); got != processed {
				t.Fatalf("%d members after the kill, %d rows recorded done", got, processed)
			}
			// The killed process's claim runs out (a minute); the test does
			// not wait for it.
			if _, err := raw.Exec(`UPDATE member_imports SET claimed_until = 0 WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			resume := exec.Command(bin, "import-members", "--account", account.String(), "--resume", id.String())
			resume.Env = env
			out, err := resume.CombinedOutput()
			if err != nil || !strings.Contains(string(out), fmt.Sprintf("done: %d added, 0 updated, 0 unchanged, 0 skipped", n)) {
				t.Fatalf("resume: %v\n%s", err, out)
			}
			var added, done int
			if err := raw.QueryRow(`SELECT added, processed FROM member_imports WHERE id = $1`, id).Scan(&added, &done); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want int
			}{
				{"import's rows added", added, n},
				{"import's rows done", done, n},
				{"rows added", count(`SELECT COUNT(*) FROM member_import_rows WHERE import_id = $1 AND outcome = 'added'`, id), n},
				{"members", count(`SELECT COUNT(*) FROM members WHERE account_id = $1`, account), n},
				{"distinct members", count(`SELECT COUNT(DISTINCT email_key) FROM members WHERE account_id = $1`, account), n},
				{"users", count(`SELECT COUNT(*) FROM users WHERE email LIKE '%@b.example'`), n},
				{"member.added events", count(`SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND action = 'member.added'`, account), n},
				{"members.imported events", count(`SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND action = 'members.imported'`, account), 1},
				{"invitations queued", count(`SELECT COUNT(*) FROM outbox WHERE template = 'invitation'`), n / 10},
				{"invitation links", count(`SELECT COUNT(*) FROM tokens WHERE kind = 'invitation'`), n / 10},
			} {
				if c.got != c.want {
					t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
				}
			}
		})
	}
}

// waitGone waits until PostgreSQL holds no connection named app (a killed
// process's, which the server ends once it sees the process gone).
func waitGone(t *testing.T, raw *sql.DB, app string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections of the killed process still open after 30 s", n)
		}
		<-tick.C
	}
}
