package team_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// readFile reads a members file as the pages and the API do.
func readFile(t *testing.T, text string) team.ImportFile {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	f, err := spreadsheet.ReadMembers(strings.NewReader(text), cat)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// count counts the rows of a table that a condition selects.
func (s *scene) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.b.raw.QueryRow(query, args...).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// unthrottled is counts without the throttles': a check counts against
// the account's checks in the hour, and writes nothing else.
func unthrottled(counts map[string]int) map[string]int {
	c := maps.Clone(counts)
	delete(c, "throttles")
	return c
}

type problem struct {
	line        int
	column, key string
}

// problemsOf is a plan's problems as the tests compare them.
func problemsOf(ps []team.ImportProblem) []problem {
	var out []problem
	for _, p := range ps {
		out = append(out, problem{p.Line, p.Column, p.Key})
	}
	return out
}

func TestImport_DryRunReportsEveryRowsProblemAndWritesNothing(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		manager := s.joined("mia", "manager")
		s.joined("zed", "collaborator") // already a member: a row for them changes their role
		var file strings.Builder
		// A French spreadsheet: semicolons, French headers, a byte order mark.
		file.WriteString("\ufeffE-mail;Prénom;Nom;Rôle;Fonction;Ressources;Envoyer l’invitation\r\n")
		var want []problem
		const n = 5000
		for i := 2; i <= n+1; i++ { // line 1 is the header
			email, first, role, res, invite := fmt.Sprintf("p%d@%s", i, s.domain), "Ana", "collaborator", "product 2", "oui"
			switch i % 500 {
			case 7:
				email = fmt.Sprintf("p%d-at-nowhere", i)
				want = append(want, problem{i, "email", "email.invalid"})
			case 11:
				role = "wizard"
				want = append(want, problem{i, "role", "role.unknown"})
			case 13:
				role = "admin" // only an administrator makes administrators
				want = append(want, problem{i, "role", "role.admin_only"})
			case 17:
				email = fmt.Sprintf("p%d@%s", i-1, s.domain)
				want = append(want, problem{i, "email", "import.duplicate"})
			case 19:
				first = "=1+2"
				want = append(want, problem{i, "first_name", "import.formula"})
			case 23:
				res = "product 9"
				want = append(want, problem{i, "resources", "import.resource_unknown"})
			case 29:
				invite = "peut-être"
				want = append(want, problem{i, "send_invitation", "import.yes_no"})
			case 31:
				res = "location 0" // no product: the catalogue requires one
				want = append(want, problem{i, "resources", "member.required_resource"})
			}
			if i == 42 {
				email = s.email("zed")
				role = "guest"
			}
			fmt.Fprintf(&file, "%s;%s;Martin;%s;;%s;%s\r\n", email, first, role, res, invite)
		}
		before := s.snapshot()
		plan, err := s.s.PlanImport(ctx, team.Actor{User: manager}, s.account, readFile(t, file.String()), true)
		if err != nil {
			t.Fatal(err)
		}
		got := problemsOf(plan.Problems)
		if !slices.Equal(got, want) {
			t.Fatalf("problems:\n got %v\nwant %v", got, want)
		}
		if plan.Rows != n || plan.Updates != 1 || plan.Adds != n-1-len(want) || plan.ID != nil {
			t.Fatalf("plan: %d rows, %d adds, %d updates, kept %v", plan.Rows, plan.Adds, plan.Updates, plan.ID)
		}
		after := s.snapshot()
		if !reflect.DeepEqual(unthrottled(before.counts), unthrottled(after.counts)) || !reflect.DeepEqual(before.members, after.members) {
			t.Errorf("the dry run changed the rows: %v → %v", before.counts, after.counts)
		}
	})
}

func TestImport_RunsInBatchesAndResumesAfterAStop(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		s.joined("zed", "collaborator")
		const n = 1000
		var file strings.Builder
		file.WriteString("email,first_name,last_name,role,title,resources,send_invitation\n")
		for i := range n {
			invite := "no"
			if i%100 == 0 {
				invite = "yes"
			}
			fmt.Fprintf(&file, "m%d@%s,Ana,\"Martin, %d\",collaborator,Salarié,product 2 | location 0,%s\n", i, s.domain, i, invite)
		}
		fmt.Fprintf(&file, "%s,,,guest,,product 2,no\n", s.email("zed"))
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file.String()), true)
		if err != nil || len(plan.Problems) > 0 || plan.ID == nil {
			t.Fatalf("plan: %+v %v", plan.Problems, err)
		}
		id := *plan.ID
		if err := s.s.StartImport(ctx, s.admin(), s.account, id); err != nil {
			t.Fatal(err)
		}
		// The process stops after three batches.
		stop, cancel := context.WithCancel(ctx)
		batches, stopped := 0, 0
		err = s.s.RunImport(stop, id, func(m store.MemberImport) {
			if batches++; batches == 3 {
				stopped = m.Processed
				cancel()
			}
		})
		if err == nil {
			t.Fatal("the import ran to its end")
		}
		p, err := s.s.ImportStatus(ctx, s.admin(), s.account, id)
		if err != nil || p.Processed != stopped || stopped == 0 || stopped%3 != 0 || p.Done() {
			t.Fatalf("after the stop: %+v %v", p.MemberImport, err)
		}
		if got := s.count(`SELECT COUNT(*) FROM members WHERE account_id = $1`, s.account); got != stopped+2 {
			t.Fatalf("%d members after three batches of %d, want %d", got, stopped/3, stopped+2)
		}
		// A process that stops in the middle of a batch leaves none of it:
		// its claim holds until it runs out, then the import is taken up.
		if _, err := b.raw.Exec(`UPDATE member_imports SET claimed_until = $2 WHERE id = $1`,
			id, b.st.Clock.Now().Add(30*time.Second).UnixMicro()); err != nil {
			t.Fatal(err)
		}
		if err := s.s.ResumeImports(ctx); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.s.ImportStatus(ctx, s.admin(), s.account, id); p.Processed != stopped {
			t.Fatalf("an import still held was taken up: %+v", p.MemberImport)
		}
		b.st.Clock.Advance(2 * time.Minute)
		if err := s.s.ResumeImports(ctx); err != nil {
			t.Fatal(err)
		}
		p, err = s.s.ImportStatus(ctx, s.admin(), s.account, id)
		if err != nil || !p.Done() || p.Processed != n+1 || p.Added != n || p.Unchanged != 0 || p.Updated != 1 || p.Skipped != 0 {
			t.Fatalf("after the resumption: %+v %v", p.MemberImport, err)
		}
		// Each member once, each with one event, each invitation once.
		if got := s.count(`SELECT COUNT(*) FROM members WHERE account_id = $1`, s.account); got != n+2 {
			t.Fatalf("%d members, want %d", got, n+2)
		}
		added := s.count(`SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND action = 'member.added'`, s.account)
		changed := s.count(`SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND action = 'member.changed'`, s.account)
		imported := 0
		for _, e := range s.events(s.account) {
			if e.Type == event.MembersImported.Type {
				imported++
				if after := e.After.(event.Import); after.Rows != n+1 || after.Added != n || after.ImportID != id {
					t.Errorf("the import's event: %+v", after)
				}
			}
		}
		if added != n+1 || imported != 1 || changed != 1 {
			t.Fatalf("events: %d added, %d imports, %d changed", added, imported, changed)
		}
		if got := s.count(`SELECT COUNT(*) FROM outbox WHERE template = 'invitation'`); got != n/100+1 {
			t.Fatalf("%d invitations queued, want %d", got, n/100+1)
		}
		m := s.member(s.users["zed"].ID)
		if m.Role != "guest" {
			t.Fatalf("zed's role: %s", m.Role)
		}
	})
}

func TestImport_ARowRefusedWhenRunSkipsAloneAndItsBatchStands(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		manager := s.joined("mia", "manager")
		zed := s.joined("zed", "collaborator")
		const n = 50
		var file strings.Builder
		file.WriteString("email,first_name,last_name,role,resources\n")
		for i := range n {
			if i == n/2 {
				fmt.Fprintf(&file, "%s,,,guest,product 2\n", s.email("zed"))
			}
			fmt.Fprintf(&file, "m%d@%s,Ana,Martin,collaborator,product 2\n", i, s.domain)
		}
		plan, err := s.s.PlanImport(ctx, team.Actor{User: manager}, s.account, readFile(t, file.String()), true)
		if err != nil || len(plan.Problems) > 0 || plan.ID == nil {
			t.Fatalf("plan: %+v %v", plan.Problems, err)
		}
		if err := s.s.StartImport(ctx, team.Actor{User: manager}, s.account, *plan.ID); err != nil {
			t.Fatal(err)
		}
		// Between the plan and the run, zed becomes an administrator, whom
		// a manager may not change.
		admin := "admin"
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, zed.ID, team.MemberChange{Role: &admin}); err != nil {
			t.Fatal(err)
		}
		if err := s.s.RunImport(ctx, *plan.ID, nil); err != nil {
			t.Fatal(err)
		}
		p, err := s.s.ImportStatus(ctx, s.admin(), s.account, *plan.ID)
		if err != nil || !p.Done() || p.Added != n || p.Skipped != 1 || p.Updated != 0 {
			t.Fatalf("import: %+v %v", p.MemberImport, err)
		}
		if len(p.SkippedRows) != 1 || p.SkippedRows[0].Line != n/2+2 || p.SkippedRows[0].Key == "" {
			t.Fatalf("skipped rows: %+v", p.SkippedRows)
		}
		if m := s.member(zed.ID); m.Role != "admin" {
			t.Fatalf("zed's role: %s", m.Role)
		}
		if got := s.count(`SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND action = 'member.added'`, s.account); got != n+2 { // mia, zed and the file's
			t.Fatalf("%d member.added events, want %d", got, n+2)
		}
		if got := s.count(`SELECT COUNT(*) FROM members WHERE account_id = $1`, s.account); got != n+3 {
			t.Fatalf("%d members, want %d", got, n+3)
		}
	})
}

func TestImport_ARowForAMemberSetsTheirNotificationEmailAndInvitesThemIfNeverInvited(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		ann := s.added("ann", "collaborator", false) // never invited
		bob := s.added("bob", "collaborator", true)  // invited, not joined
		cat := s.joined("cat", "collaborator")
		dan, err := s.s.AddMember(ctx, s.admin(), s.account, team.NewMember{Email: s.email("dan"), Role: "collaborator",
			Resources: s.product(), NotificationEmail: "dan.elsewhere@" + s.domain})
		if err != nil {
			t.Fatal(err)
		}
		invitations := func(email string) int {
			return s.count(`SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND template = 'invitation'`, email)
		}
		file := "email,role,resources,notification_email,send_invitation\n" +
			s.email("ann") + ",collaborator,product 2,Ann.Notices@" + s.domain + ",yes\n" +
			s.email("bob") + ",collaborator,product 2,,yes\n" +
			s.email("cat") + ",collaborator,product 2,,yes\n" +
			s.email("dan") + ",collaborator,product 2,,no\n"
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), true)
		if err != nil || len(plan.Problems) > 0 || plan.Updates != 2 || plan.Unchanged != 2 {
			t.Fatalf("plan: %+v %v", plan, err)
		}
		if err := s.s.StartImport(ctx, s.admin(), s.account, *plan.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.s.RunImport(ctx, *plan.ID, nil); err != nil {
			t.Fatal(err)
		}
		p, err := s.s.ImportStatus(ctx, s.admin(), s.account, *plan.ID)
		if err != nil || !p.Done() || p.Updated != 2 || p.Unchanged != 2 || p.Skipped != 0 {
			t.Fatalf("import: %+v %v", p.MemberImport, err)
		}
		if m := s.member(ann.ID); m.NotificationEmail != "Ann.Notices@"+s.domain || m.Status != equipe.MemberInvited {
			t.Errorf("ann: notification email %q, status %s", m.NotificationEmail, m.Status)
		}
		if got := invitations(ann.Email); got != 1 {
			t.Errorf("ann: %d invitations queued, want 1", got)
		}
		// Invited already, or joined: no second invitation.
		if got := invitations(bob.Email); got != 1 {
			t.Errorf("bob: %d invitations queued, want the first only", got)
		}
		if got := invitations(cat.Email); got != 1 {
			t.Errorf("cat: %d invitations queued, want the first only", got)
		}
		// An empty cell in the column clears the address.
		if m := s.member(dan.User.ID); m.NotificationEmail != "" {
			t.Errorf("dan: notification email %q, want none", m.NotificationEmail)
		}
		var changed []event.Member
		for _, e := range s.events(s.account) {
			if e.Type == event.MemberChanged.Type {
				changed = append(changed, e.Before.(event.Member), e.After.(event.Member))
			}
		}
		if len(changed) != 4 || changed[1].NotificationEmail != "Ann.Notices@"+s.domain ||
			changed[2].NotificationEmail != "dan.elsewhere@"+s.domain || changed[3].NotificationEmail != "" {
			t.Errorf("member.changed events: %+v", changed)
		}
		// The same file again changes nothing and sends nothing.
		again, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), false)
		if err != nil || again.Updates != 0 || again.Unchanged != 4 {
			t.Fatalf("the same file again: %+v %v", again, err)
		}
	})
}

func TestImport_ARowWhoseWritesBreakAConstraintWhenRunSkipsAloneAndItsBatchStands(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		zed := s.joined("zed", "collaborator")
		const n = 30
		var file strings.Builder
		file.WriteString("email,first_name,last_name,role,resources,external_id,send_invitation\n")
		for i := range n {
			ext := fmt.Sprintf("EXT-%d", i)
			if i == 4 {
				ext = "" // an empty cell: a member with none
			}
			fmt.Fprintf(&file, "m%d@%s,Ana,Martin,collaborator,product 2,%s,%v\n", i, s.domain, ext, i%3 == 0)
		}
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file.String()), true)
		if err != nil || len(plan.Problems) > 0 || plan.ID == nil {
			t.Fatalf("plan: %+v %v", plan.Problems, err)
		}
		if err := s.s.StartImport(ctx, s.admin(), s.account, *plan.ID); err != nil {
			t.Fatal(err)
		}
		// Between the plan and the run, zed takes the external ID of the
		// file's eighth member: writing that member breaks the account's
		// uniqueness of external IDs, which only the database sees.
		ext := "EXT-7"
		if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, zed.ID, team.MemberChange{ExternalID: &ext}); err != nil {
			t.Fatal(err)
		}
		held := s.count(`SELECT COUNT(*) FROM member_resources WHERE account_id = $1`, s.account)
		const eventsOf = `SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND action IN ('member.added', 'invitation.sent')`
		before := s.count(eventsOf, s.account)
		if err := s.s.RunImport(ctx, *plan.ID, nil); err != nil {
			t.Fatal(err)
		}
		p, err := s.s.ImportStatus(ctx, s.admin(), s.account, *plan.ID)
		if err != nil || !p.Done() || p.Added != n-1 || p.Skipped != 1 {
			t.Fatalf("import: %+v %v", p.MemberImport, err)
		}
		if len(p.SkippedRows) != 1 || p.SkippedRows[0].Line != 9 || p.SkippedRows[0].Key != "member.external_id_taken" {
			t.Fatalf("skipped rows: %+v", p.SkippedRows)
		}
		if got := s.count(`SELECT COUNT(*) FROM members WHERE account_id = $1 AND status = 'invited'`, s.account); got != n/3 {
			t.Fatalf("%d members invited, want %d", got, n/3)
		}
		if got := s.count(`SELECT COUNT(*) FROM member_resources WHERE account_id = $1`, s.account) - held; got != n-1 {
			t.Fatalf("%d resources assigned, want %d", got, n-1)
		}
		if got := s.count(eventsOf, s.account) - before; got != n-1+n/3 {
			t.Fatalf("%d events, want %d", got, n-1+n/3)
		}
	})
}

// TestImport_AnExternalIDTwiceOrAnotherMembersIsAProblemOfTheDryRun: each
// row is rehearsed alone, so two rows giving one external ID both passed
// and the second was skipped when run, although nothing is to be written
// while a problem remains. The second row is the problem, naming the
// first; so is a row giving an external ID another member has. A member's
// own external ID, and empty cells, are no problem.
func TestImport_AnExternalIDTwiceOrAnotherMembersIsAProblemOfTheDryRun(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		for name, ext := range map[string]string{"zed": "Z-1", "yan": "Y-1"} {
			u := s.joined(name, "collaborator")
			if _, err := s.s.ChangeMember(ctx, s.admin(), s.account, u.ID, team.MemberChange{ExternalID: &ext}); err != nil {
				t.Fatal(err)
			}
		}
		file := "email,first_name,last_name,role,resources,external_id\n" +
			"m0@" + s.domain + ",Ana,Martin,collaborator,product 2,EXT-A\n" +
			"m1@" + s.domain + ",Bob,Martin,collaborator,product 2,EXT-A\n" +
			"m2@" + s.domain + ",Cy,Martin,collaborator,product 2,Y-1\n" +
			"m3@" + s.domain + ",Di,Martin,collaborator,product 2,\n" +
			"m4@" + s.domain + ",Ed,Martin,collaborator,product 2,\n" +
			s.email("zed") + ",Zed,Martin,collaborator,product 2,Z-1\n"
		before := s.snapshot()
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), true)
		if err != nil {
			t.Fatal(err)
		}
		got := problemsOf(plan.Problems)
		want := []problem{{3, "external_id", "import.external_id_duplicate"}, {4, "external_id", "member.external_id_taken"}}
		if !slices.Equal(got, want) || plan.ID != nil {
			t.Fatalf("problems %v, kept %v; want %v and nothing kept", got, plan.ID, want)
		}
		if line := plan.Problems[0].Args["line"]; line != 2 {
			t.Errorf("the duplicate names line %v, want 2", line)
		}
		if after := s.snapshot(); !reflect.DeepEqual(unthrottled(before.counts), unthrottled(after.counts)) {
			t.Errorf("the plan changed the rows: %v → %v", before.counts, after.counts)
		}
	})
}

func TestImport_AFileWithoutARoleUpdatesMembersAndAsksOneOnlyOfNewcomers(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		zed := s.joined("zed", "manager")
		yan := s.joined("yan", "collaborator")
		// No role column: the members keep theirs; a newcomer needs one.
		file := "email,external_id\n" +
			s.email("zed") + ",Z-1\n" +
			s.email("yan") + ",Y-1\n" +
			"new@" + s.domain + ",N-1\n"
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), false)
		if err != nil {
			t.Fatal(err)
		}
		got := problemsOf(plan.Problems)
		if want := []problem{{4, "role", "import.role_required"}}; !slices.Equal(got, want) || plan.Updates != 2 {
			t.Fatalf("problems %v, %d updates; want %v and 2 updates", got, plan.Updates, want)
		}
		// A role column whose cell is empty leaves the member's role too.
		file = "email,role,external_id\n" +
			s.email("zed") + ",,Z-1\n" +
			s.email("yan") + ",,Y-1\n"
		plan, err = s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), true)
		if err != nil || len(plan.Problems) > 0 || plan.Updates != 2 {
			t.Fatalf("plan: %+v %v", plan, err)
		}
		if err := s.s.StartImport(ctx, s.admin(), s.account, *plan.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.s.RunImport(ctx, *plan.ID, nil); err != nil {
			t.Fatal(err)
		}
		if p, err := s.s.ImportStatus(ctx, s.admin(), s.account, *plan.ID); err != nil || p.Updated != 2 || p.Skipped != 0 {
			t.Fatalf("import: %+v %v", p.MemberImport, err)
		}
		if m := s.member(zed.ID); m.Role != "manager" || m.ExternalID != "Z-1" {
			t.Errorf("zed: role %q, external ID %q", m.Role, m.ExternalID)
		}
		if m := s.member(yan.ID); m.Role != "collaborator" || m.ExternalID != "Y-1" {
			t.Errorf("yan: role %q, external ID %q", m.Role, m.ExternalID)
		}
	})
}

func TestImport_ARoleIsNamedByItsKeyOrItsNameInEitherLanguage(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, team.RoleInput{Key: "kiosk", LabelFR: "Borne d’accueil",
			LabelEN: "Kiosk"}); err != nil {
			t.Fatal(err)
		}
		// A custom role named as a built-in one: the name says neither.
		if _, err := s.s.CreateRole(ctx, s.admin(), s.account, team.RoleInput{Key: "visitor", LabelFR: "Visiteur",
			LabelEN: "Guest"}); err != nil {
			t.Fatal(err)
		}
		file := "E-mail;Rôle;Ressources\n" +
			"a@" + s.domain + ";Administrateur;product 2\n" +
			"b@" + s.domain + ";Manager;product 2\n" +
			"c@" + s.domain + ";  COLLABORATEUR ;product 2\n" +
			"d@" + s.domain + ";borne d'accueil;product 2\n" +
			"e@" + s.domain + ";Kiosk;product 2\n" +
			"f@" + s.domain + ";Invité;product 2\n" +
			"g@" + s.domain + ";guest;product 2\n" +
			"h@" + s.domain + ";Guest;product 2\n" +
			"i@" + s.domain + ";Wizard;product 2\n"
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), true)
		if err != nil {
			t.Fatal(err)
		}
		got := problemsOf(plan.Problems)
		want := []problem{{9, "role", "import.role_ambiguous"}, {10, "role", "role.unknown"}}
		if !slices.Equal(got, want) || plan.Adds != 7 {
			t.Fatalf("problems %v, %d adds; want %v and 7 adds", got, plan.Adds, want)
		}
		file = strings.Join(slices.Delete(strings.SplitAfter(file, "\n"), 8, 10), "")
		plan, err = s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), true)
		if err != nil || len(plan.Problems) > 0 {
			t.Fatalf("plan: %+v %v", plan, err)
		}
		if err := s.s.StartImport(ctx, s.admin(), s.account, *plan.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.s.RunImport(ctx, *plan.ID, nil); err != nil {
			t.Fatal(err)
		}
		for name, role := range map[string]string{"a": "admin", "b": "manager", "c": "collaborator", "d": "kiosk",
			"e": "kiosk", "f": "guest", "g": "guest"} {
			u, err := s.db.UserByEmailKey(ctx, name+"@"+s.domain)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if m := s.member(u.ID); m.Role != role {
				t.Errorf("%s: role %q, want %q", name, m.Role, role)
			}
		}
	})
}

func TestImport_AFileWithoutItsEmailColumnIsToldSoOnceNotOnEveryLine(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		file := "Adresse e-mail;Prénom;Rôle\n"
		for i := range 500 {
			file += fmt.Sprintf("p%d@%s;Ana;collaborator\n", i, s.domain)
		}
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), true)
		if err != nil {
			t.Fatal(err)
		}
		got := problemsOf(plan.Problems)
		want := []problem{{1, "Adresse e-mail", "import.column_unknown"}, {1, "email", "import.column_missing"}}
		if !slices.Equal(got, want) || plan.ID != nil || plan.Rows != 500 {
			t.Fatalf("problems %v (%d rows), kept %v; want %v", got, plan.Rows, plan.ID, want)
		}
	})
}

func TestImport_AnAccountKeepsItsNewestPlannedImportsOnly(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		// Each upload of the page keeps its plan, rows and all, to be
		// started: uploads never started must not pile up for a day.
		file := "email,role,resources\n"
		for i := range 50 {
			file += fmt.Sprintf("p%d@%s,collaborator,product 2\n", i, s.domain)
		}
		var ids []equipe.ID
		for range 15 {
			plan, err := s.s.PlanImport(ctx, s.admin(), s.account, readFile(t, file), true)
			if err != nil || plan.ID == nil {
				t.Fatalf("plan: %+v %v", plan, err)
			}
			ids = append(ids, *plan.ID)
		}
		if n := s.count(`SELECT COUNT(*) FROM member_imports WHERE account_id = $1 AND status = 'planned'`, s.account); n != 10 {
			t.Errorf("%d planned imports kept, want 10", n)
		}
		if n := s.count(`SELECT COUNT(*) FROM member_import_rows`); n != 10*50 {
			t.Errorf("%d rows of planned imports kept, want 500", n)
		}
		if err := s.s.StartImport(ctx, s.admin(), s.account, ids[0]); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Errorf("the oldest plan started: %v", err)
		}
		if err := s.s.StartImport(ctx, s.admin(), s.account, ids[14]); err != nil {
			t.Errorf("the newest plan: %v", err)
		}
	})
}

func TestImport_FilesCheckedInAnAccountAreLimitedInTheHour(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		// Checking 10,000 rows costs the database seconds: a loop of dry
		// runs must not hold it for everyone.
		file := readFile(t, "email,role,resources\np@"+s.domain+",collaborator,product 2\n")
		for i := range 30 {
			if _, err := s.s.PlanImport(ctx, s.admin(), s.account, file, i%2 == 0); err != nil {
				t.Fatalf("check %d: %v", i+1, err)
			}
		}
		before := s.snapshot()
		_, err := s.s.PlanImport(ctx, s.admin(), s.account, file, true)
		if e := equipe.AsError(err); e.Code != equipe.ERATELIMITED || e.Key != "import.check_throttled" {
			t.Fatalf("the 31st check: %v", err)
		}
		if after := s.snapshot(); after.counts["member_imports"] != before.counts["member_imports"] {
			t.Errorf("a refused check kept a plan: %v → %v", before.counts, after.counts)
		}
		// Another account is not held back.
		other := b.scene(t)
		if _, err := other.s.PlanImport(ctx, other.admin(), other.account, file, false); err != nil {
			t.Errorf("another account: %v", err)
		}
		// An hour later, the account checks files again.
		b.st.Clock.Advance(time.Hour)
		if _, err := s.s.PlanImport(ctx, s.admin(), s.account, file, false); err != nil {
			t.Errorf("an hour later: %v", err)
		}
	})
}

func TestImport_OnlyWhoPlannedAnImportStartsIt(t *testing.T) {
	eachBench(t, func(t *testing.T, b *bench) {
		s := b.scene(t)
		manager := team.Actor{User: s.joined("mia", "manager")}
		// The administrator's plan makes an administrator, which the
		// manager may not: started by the manager, it would run as the
		// administrator all the same.
		file := readFile(t, "email,role,resources\nnew-admin@"+s.domain+",admin,product 2\n")
		plan, err := s.s.PlanImport(ctx, s.admin(), s.account, file, true)
		if err != nil || plan.ID == nil {
			t.Fatalf("plan: %+v %v", plan, err)
		}
		if err := s.s.StartImport(ctx, manager, s.account, *plan.ID); equipe.ErrorCode(err) != equipe.ENOTFOUND {
			t.Fatalf("the manager started the administrator's import: %v", err)
		}
		if _, err := s.s.ImportStatus(ctx, s.admin(), s.account, *plan.ID); err != nil {
			t.Fatal(err)
		}
		if n := s.count(`SELECT COUNT(*) FROM member_imports WHERE id = $1 AND status = 'planned'`, *plan.ID); n != 1 {
			t.Fatalf("the import is no longer planned")
		}
		if err := s.s.StartImport(ctx, s.admin(), s.account, *plan.ID); err != nil {
			t.Fatalf("the administrator starts their import: %v", err)
		}
	})
}
