package team

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// Import limits.
const (
	// MaxImportRows is the most rows a members file may hold.
	MaxImportRows = 10_000
	// importBatch is how many rows an import applies in one unit of work,
	// recording its progress with them: a process that stops loses at most
	// one batch, done again when the import is taken up. Larger batches
	// save little more and hold the database's write lock longer.
	importBatch = 200
	// importLease is how long a process holds a running import without
	// recording progress; past it, another process takes it up.
	importLease = time.Minute
	// importsPerAccount bounds the imports an account starts in an hour.
	importsPerAccount = 10
	// checksPerAccount bounds the files an account checks in an hour (dry
	// runs, and the checks that precede imports): a check of 10,000 rows
	// holds the database for seconds.
	checksPerAccount = 30
	// plannedImportTTL is how long a planned import waits to be started.
	plannedImportTTL = 24 * time.Hour
	// plannedPerAccount bounds the planned imports an account keeps, rows
	// and all (each upload on the page keeps one): a new plan deletes the
	// oldest beyond it.
	plannedPerAccount = 10
)

// ImportColumns are the columns a members file may have, by key: a file
// names them in its first line, by key or by their header in either
// language (see package spreadsheet), in any order; only email is
// required.
var ImportColumns = []string{"email", "first_name", "last_name", "role", "title", "resources", "notification_email",
	"external_id", "send_invitation"}

// ImportRow is one line of a members file: its number in the file (the
// header is line 1) and its cells by column key. Absent columns have no
// cell.
type ImportRow struct {
	Line  int
	Cells map[string]string
}

// ImportProblem is why a line of a file cannot be imported: the line, the
// column at fault ("" for the whole line), and a message key with its
// arguments. Email is the line's address as the file gives it, to say
// which member the line is about ("" for the first line).
type ImportProblem struct {
	Line   int
	Column string
	Key    string
	Args   map[string]any
	Email  string
}

// ImportFile is a members file as read: its rows, and the problems found
// reading it (a missing column, a cell a spreadsheet would run).
type ImportFile struct {
	Rows     []ImportRow
	Problems []ImportProblem
}

// ImportPlan is what an import would do: how many rows it would add and
// update, and every row's problem. An import with problems does nothing.
type ImportPlan struct {
	Rows      int
	Adds      int
	Updates   int
	Unchanged int
	Problems  []ImportProblem
	// ID is the import kept to be started (StartImport), when the plan was
	// asked to keep it and has no problem.
	ID *equipe.ID
}

// importData is what a row of an import does, as its row stores it.
type importData struct {
	Email             string       `json:"email"`
	FirstName         string       `json:"first_name,omitempty"`
	LastName          string       `json:"last_name,omitempty"`
	Role              string       `json:"role"`
	Title             *string      `json:"title,omitempty"`
	Resources         *[]equipe.ID `json:"resources,omitempty"`
	NotificationEmail *string      `json:"notification_email,omitempty"`
	ExternalID        *string      `json:"external_id,omitempty"`
	SendInvitation    bool         `json:"send_invitation,omitempty"`
}

type importingKey struct{}

// importing marks ctx as an import's: the per-account counters of members
// added and invitations sent in the hour are not counted row by row (the
// import is limited as a whole, see StartImport), and the adder is not
// emailed for each member.
func importing(ctx context.Context) context.Context {
	return context.WithValue(ctx, importingKey{}, true)
}

func isImporting(ctx context.Context) bool { return ctx.Value(importingKey{}) != nil }

// MayImport answers whether the actor may import members into the
// account (members.manage): nil, or the refusal.
func (s *Service) MayImport(ctx context.Context, actor Actor, account equipe.ID) error {
	_, _, err := s.authorize(ctx, actor, account, "members.manage")
	return err
}

// PlanImport checks a members file for the account without changing
// anything: the dry run. Every row goes through the use case that would
// apply it (AddMember, or ChangeMember for someone already a member),
// rehearsed alone and rolled back (a batch of rows in one unit of work,
// each undone to a savepoint), so that the plan and the import judge alike:
// the address, the names, the role and whether the actor may grant it,
// the resources, the last administrator, an external ID another member
// has. Besides, a row may not repeat an earlier row's address or external
// ID, nor hold a cell a spreadsheet would run. With
// keep, a plan without problems is kept as an import to start (the account
// keeps its plannedPerAccount newest). The actor needs members.manage. An
// account checks at most checksPerAccount files an hour
// (import.check_throttled).
func (s *Service) PlanImport(ctx context.Context, actor Actor, account equipe.ID, f ImportFile, keep bool) (ImportPlan, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.manage"); err != nil {
		return ImportPlan{}, err
	}
	if len(f.Rows) > MaxImportRows {
		return ImportPlan{}, &equipe.Error{Code: equipe.EINVALID, Key: "error.fields",
			Fields: []equipe.FieldError{{Field: "file", Key: "import.too_many", Args: map[string]any{"max": MaxImportRows}}}}
	}
	if err := s.do(ctx, actor, func(u *work.Unit) error {
		return u.Limit(ctx, "import:check:account:"+account.String(), checksPerAccount, time.Hour, "import.check_throttled")
	}); err != nil {
		return ImportPlan{}, err
	}
	plan := ImportPlan{Rows: len(f.Rows), Problems: slices.Clone(f.Problems)}
	if len(f.Rows) == 0 && len(plan.Problems) == 0 {
		plan.Problems = append(plan.Problems, ImportProblem{Line: 1, Key: "import.empty"})
	}
	if slices.ContainsFunc(f.Problems, func(p ImportProblem) bool { return p.Key == "import.column_missing" }) {
		// Without its column of addresses, every line would be told it has
		// none, burying the one problem under thousands.
		return plan, nil
	}
	resources, err := s.DB.Resources(ctx, account)
	if err != nil {
		return ImportPlan{}, err
	}
	roles, err := s.importRoles(ctx, account)
	if err != nil {
		return ImportPlan{}, err
	}
	bad := map[int]bool{}
	for _, p := range f.Problems {
		bad[p.Line] = true
	}
	seen := map[string]int{}
	// Each row is rehearsed alone: two rows giving one external ID would
	// both pass, and the second be skipped when run.
	seenExternal := map[string]int{}
	ds := make([]importData, len(f.Rows))
	var trial []int // the rows without a problem of form, rehearsed
	for i, row := range f.Rows {
		var problems []ImportProblem
		add := func(col, key string, args map[string]any) {
			problems = append(problems, ImportProblem{Line: row.Line, Column: col, Key: key, Args: args})
		}
		d, key := importDataOf(row, resources, roles, add)
		ds[i] = d
		repeated := false
		if key != "" {
			if first, ok := seen[key]; ok {
				add("email", "import.duplicate", map[string]any{"line": first})
				repeated = true
			} else {
				seen[key] = row.Line
			}
		}
		if x := d.ExternalID; x != nil && *x != "" && !repeated {
			if first, ok := seenExternal[*x]; ok {
				add("external_id", "import.external_id_duplicate", map[string]any{"line": first})
			} else {
				seenExternal[*x] = row.Line
			}
		}
		if len(problems) == 0 && !bad[row.Line] {
			trial = append(trial, i)
		}
		plan.Problems = append(plan.Problems, problems...)
	}
	for start := 0; start < len(trial); start += importBatch {
		batch := trial[start:min(len(trial), start+importBatch)]
		bd := make([]importData, len(batch))
		for j, i := range batch {
			bd[j] = ds[i]
		}
		done, err := s.applyRows(ctx, actor, account, bd, true, nil)
		if err != nil {
			return ImportPlan{}, err
		}
		for j, r := range done {
			line := f.Rows[batch[j]].Line
			switch {
			case r.err != nil:
				e := equipe.AsError(r.err)
				if len(e.Fields) > 0 {
					for _, fe := range e.Fields {
						plan.Problems = append(plan.Problems, ImportProblem{Line: line, Column: fe.Field, Key: fe.Key, Args: fe.Args})
					}
				} else {
					plan.Problems = append(plan.Problems, ImportProblem{Line: line, Column: refusalColumn(e.Key), Key: e.Key, Args: e.Args})
				}
			case r.outcome == "added":
				plan.Adds++
			case r.outcome == "updated":
				plan.Updates++
			case r.outcome == "unchanged":
				plan.Unchanged++
			}
		}
	}
	stored := make([]store.ImportRow, 0, len(f.Rows))
	if keep {
		for i, row := range f.Rows {
			b, err := json.Marshal(ds[i])
			if err != nil {
				return ImportPlan{}, err
			}
			stored = append(stored, store.ImportRow{Line: row.Line, Data: string(b)})
		}
	}
	emails := make(map[int]string, len(f.Rows))
	for _, row := range f.Rows {
		emails[row.Line] = strings.TrimSpace(row.Cells["email"])
	}
	for i := range plan.Problems {
		plan.Problems[i].Email = emails[plan.Problems[i].Line]
	}
	slices.SortStableFunc(plan.Problems, func(a, b ImportProblem) int { return a.Line - b.Line })
	if !keep || len(plan.Problems) > 0 {
		return plan, nil
	}
	who, err := json.Marshal(storedActor(actor))
	if err != nil {
		return ImportPlan{}, err
	}
	m := store.MemberImport{ID: equipe.NewID(), AccountID: account, Actor: string(who), Status: "planned",
		Total: len(stored), CreatedAt: s.now()}
	if err := s.DB.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateImport(ctx, &m, stored); err != nil {
			return err
		}
		return tx.KeepNewestPlannedImports(ctx, account, plannedPerAccount)
	}); err != nil {
		return ImportPlan{}, err
	}
	plan.ID = &m.ID
	return plan, nil
}

// refusalColumn is the column a refusal without fields is about.
func refusalColumn(key string) string {
	switch {
	case strings.HasPrefix(key, "role."), key == "member.outranks", key == "member.last_admin", key == "import.role_required":
		return "role"
	case strings.Contains(key, "resource"):
		return "resources"
	case strings.Contains(key, "external_id"):
		return "external_id"
	}
	return ""
}

// importRoleNames is what a members file may call the account's roles by:
// each role's key as it is, and, folded (ImportFold), its key and its
// names in either language. A folded name two roles answer to is kept
// with no key: the file must say which.
type importRoleNames struct {
	keys   map[string]bool
	folded map[string]string
}

// importRoles returns the names the account's roles go by in a file: the
// catalogue's and the account's own.
func (s *Service) importRoles(ctx context.Context, account equipe.ID) (importRoleNames, error) {
	custom, err := s.DB.Roles(ctx, account)
	if err != nil {
		return importRoleNames{}, err
	}
	n := importRoleNames{keys: map[string]bool{}, folded: map[string]string{}}
	add := func(key string, names ...string) {
		n.keys[key] = true
		for _, name := range append(names, key) {
			f := ImportFold(name)
			if f == "" {
				continue
			}
			if have, ok := n.folded[f]; ok && have != key {
				n.folded[f] = ""
				continue
			}
			n.folded[f] = key
		}
	}
	for _, r := range s.Catalogue.Roles {
		add(r.Key, r.Label.FR, r.Label.EN)
	}
	for _, r := range custom {
		add(r.Key, r.LabelFR, r.LabelEN)
	}
	return n, nil
}

// role returns the key of the role a cell names: its key as it is, else
// its key or name in either language, case, accents and the kind of
// apostrophe ignored. It returns the problem's key when no role, or more
// than one, answers to the name.
func (n importRoleNames) role(cell string) (key, problem string) {
	if n.keys[cell] {
		return cell, ""
	}
	key, ok := n.folded[ImportFold(cell)]
	switch {
	case !ok:
		return "", "role.unknown"
	case key == "":
		return "", "import.role_ambiguous"
	}
	return key, ""
}

// ImportFold is how a members file's names compare (its columns' headers,
// its roles): store.Fold, with the typographic apostrophe a word processor
// writes taken for the one a keyboard types.
func ImportFold(s string) string { return store.Fold(apostrophes.Replace(s)) }

var apostrophes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u02bc", "'")

// importDataOf reads a row into what it does, adding its problems of form
// (those no use case sees: a resource or a role named in a cell, a yes or
// no); it returns the comparison key of its address ("" when invalid). A
// row without a role keeps a member's; a newcomer needs one, which
// importRow says.
func importDataOf(row ImportRow, resources []equipe.Resource, roles importRoleNames, add func(col, key string, args map[string]any)) (importData, string) {
	c := row.Cells
	d := importData{Email: strings.TrimSpace(c["email"]), FirstName: c["first_name"], LastName: c["last_name"]}
	_, key, problem := identity.NormalizeEmail(d.Email)
	if problem != "" {
		add("email", problem, nil)
		key = ""
	}
	if cell := strings.TrimSpace(c["role"]); cell != "" {
		role, problem := roles.role(cell)
		if problem != "" {
			add("role", problem, map[string]any{"name": cell})
		}
		d.Role = role
	}
	if t, ok := c["title"]; ok {
		d.Title = &t
	}
	if n, ok := c["notification_email"]; ok {
		n = strings.TrimSpace(n)
		d.NotificationEmail = &n
	}
	if x, ok := c["external_id"]; ok {
		x = strings.TrimSpace(x)
		d.ExternalID = &x
	}
	if cell, ok := c["resources"]; ok {
		ids := []equipe.ID{}
		for _, name := range strings.Split(cell, "|") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			id, found := resourceNamed(resources, name)
			switch {
			case !found:
				add("resources", "import.resource_unknown", map[string]any{"name": name})
			case id == nil:
				add("resources", "import.resource_ambiguous", map[string]any{"name": name})
			default:
				ids = append(ids, *id)
			}
		}
		d.Resources = &ids
	}
	switch strings.ToLower(strings.TrimSpace(c["send_invitation"])) {
	case "", "no", "non", "n", "false", "faux", "0":
	case "yes", "oui", "y", "o", "true", "vrai", "1":
		d.SendInvitation = true
	default:
		add("send_invitation", "import.yes_no", nil)
	}
	return d, key
}

// resourceNamed finds the account's resource with the ID or the name
// (case and accents ignored); found without an ID means two resources go
// by the name.
func resourceNamed(resources []equipe.Resource, name string) (*equipe.ID, bool) {
	if id, err := equipe.ParseID(name); err == nil {
		for _, r := range resources {
			if r.ID == id {
				return &r.ID, true
			}
		}
	}
	var match *equipe.ID
	n := 0
	want := store.Fold(name)
	for i := range resources {
		if store.Fold(resources[i].Name) == want {
			match = &resources[i].ID
			n++
		}
	}
	if n > 1 {
		return nil, true
	}
	return match, n == 1
}

// importRow applies a row: AddMember for someone not a member, else
// ChangeMember for what the row changes. It returns the outcome: added,
// updated or unchanged.
func (s *Service) importRow(ctx context.Context, actor Actor, account equipe.ID, d importData) (string, error) {
	_, key, problem := identity.NormalizeEmail(d.Email)
	var existing *equipe.Member
	if j, _ := ctx.Value(joinedKey{}).(*joinedUnit); j != nil && j.prefetched {
		// The batch was looked up (lookUpBatch): a user not a member is
		// left for AddMember to take.
		if l, ok := j.looked[key]; ok && l.err == nil {
			if m, ok := j.members[l.user.ID]; ok {
				delete(j.looked, key)
				existing = &m
			}
		}
	} else if problem == "" {
		u, err := s.DB.UserByEmailKey(ctx, key)
		switch equipe.ErrorCode(err) {
		case "":
			m, err := s.DB.Member(ctx, account, u.ID)
			if err == nil {
				existing = &m
			} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
				return "", err
			}
		case equipe.ENOTFOUND:
		default:
			return "", err
		}
		if existing == nil {
			rememberUser(ctx, key, u, err)
		}
	}
	if existing == nil {
		if d.Role == "" {
			return "", &equipe.Error{Code: equipe.EINVALID, Key: "import.role_required"}
		}
		in := NewMember{Email: d.Email, FirstName: d.FirstName, LastName: d.LastName, Role: d.Role,
			SendInvitation: d.SendInvitation}
		if d.Title != nil {
			in.Title = *d.Title
		}
		if d.NotificationEmail != nil {
			in.NotificationEmail = *d.NotificationEmail
		}
		if d.Resources != nil {
			in.Resources = *d.Resources
		}
		if d.ExternalID != nil && *d.ExternalID != "" {
			// An empty cell: the new member has none.
			in.ExternalID = d.ExternalID
		}
		_, err := s.AddMember(ctx, actor, account, in)
		if errors.Is(err, errRehearsed) {
			err = nil
		}
		return "added", err
	}
	var ch MemberChange
	if d.Role != "" && d.Role != existing.Role {
		ch.Role = &d.Role
	}
	if d.Title != nil && strings.TrimSpace(*d.Title) != existing.Title {
		ch.Title = d.Title
	}
	if d.ExternalID != nil && *d.ExternalID != existing.ExternalID {
		ch.ExternalID = d.ExternalID
	}
	if d.Resources != nil {
		have, err := s.DB.MemberResources(ctx, account, existing.UserID)
		if err != nil {
			return "", err
		}
		if !sameIDs(have, *d.Resources) {
			ch.Resources = d.Resources
		}
	}
	if d.NotificationEmail != nil && !sameAddress(*d.NotificationEmail, existing.NotificationEmail) {
		ch.NotificationEmail = d.NotificationEmail
	}
	// An invitation goes to a member who has none outstanding and has not
	// joined: one added without, or whose invitation was revoked. A member
	// invited already, joined or suspended is left alone, so that importing
	// the same file again sends nothing twice (a reminder is asked for on
	// the member, not by a file).
	invite := d.SendInvitation && existing.Status == equipe.MemberCreated
	if ch == (MemberChange{}) && !invite {
		return "unchanged", nil
	}
	// The member changed may be the actor, whose rights the unit keeps.
	forgetRights(ctx)
	defer forgetRights(ctx)
	if ch != (MemberChange{}) {
		_, err := s.ChangeMember(ctx, actor, account, existing.UserID, ch)
		if errors.Is(err, errRehearsed) {
			err = nil
		}
		if err != nil {
			return "", err
		}
	}
	if invite {
		_, err := s.Invite(ctx, actor, account, existing.UserID)
		if errors.Is(err, errRehearsed) {
			err = nil
		}
		if err != nil {
			return "", err
		}
	}
	return "updated", nil
}

// sameAddress reports whether a cell's address is the one a member has
// ("" for none), as addresses compare.
func sameAddress(cell, have string) bool {
	if cell == "" || have == "" {
		return cell == have
	}
	return identity.EmailKey(cell) == identity.EmailKey(have)
}

// sameIDs reports whether a and b hold the same IDs, in any order.
func sameIDs(a, b []equipe.ID) bool {
	if len(a) != len(b) {
		return false
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			return false
		}
	}
	return true
}

// actorRecord is an import's actor as stored, to act as them again when
// the import is taken up by another process.
type actorRecord struct {
	User     *equipe.ID `json:"user,omitempty"`
	Key      *equipe.ID `json:"key,omitempty"`
	Account  *equipe.ID `json:"key_account,omitempty"`
	Operator bool       `json:"operator,omitempty"`
	IP       string     `json:"ip,omitempty"`
}

// same reports whether r and o are one actor, wherever they act from.
func (r actorRecord) same(o actorRecord) bool {
	eq := func(a, b *equipe.ID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return r.Operator == o.Operator && eq(r.User, o.User) && eq(r.Key, o.Key) && eq(r.Account, o.Account)
}

func storedActor(a Actor) actorRecord {
	r := actorRecord{Operator: a.Operator, IP: a.IP}
	switch {
	case a.Key != nil:
		r.Key, r.Account = &a.Key.ID, a.Key.AccountID
	case a.User != nil:
		r.User = &a.User.ID
	}
	return r
}

// loadActor reads an import's actor back: a person who is gone, a key
// revoked, act no more (ENOTFOUND).
func (s *Service) loadActor(ctx context.Context, raw string) (Actor, error) {
	var r actorRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return Actor{}, err
	}
	a := Actor{Operator: r.Operator, IP: r.IP}
	switch {
	case r.Key != nil:
		k, err := s.DB.APIKey(ctx, r.Account, *r.Key)
		if err != nil {
			return Actor{}, err
		}
		if !k.RevokedAt.IsZero() {
			return Actor{}, notFound()
		}
		a.Key = &k
	case r.User != nil:
		u, err := s.DB.UserByID(ctx, *r.User)
		if err != nil {
			return Actor{}, err
		}
		a.User = &u
	}
	return a, nil
}

// StartImport starts the planned import id of the account, by the actor
// who planned it and may still import into it (members.manage): it runs in
// batches (RunImport), as them. Imports are limited per account and hour
// (import.throttled). Returns ENOTFOUND for an import that is not planned,
// or that another planned: it would run with the planner's rights, which
// may exceed the starter's.
func (s *Service) StartImport(ctx context.Context, actor Actor, account, id equipe.ID) error {
	if _, _, err := s.authorize(ctx, actor, account, "members.manage"); err != nil {
		return err
	}
	m, err := s.DB.Import(ctx, account, id)
	if err != nil {
		return err
	}
	var planner actorRecord
	if err := json.Unmarshal([]byte(m.Actor), &planner); err != nil {
		return err
	}
	if !planner.same(storedActor(actor)) {
		return notFound()
	}
	err = s.do(ctx, actor, func(u *work.Unit) error {
		if err := u.Limit(ctx, "import:account:"+account.String(), importsPerAccount, time.Hour, "import.throttled"); err != nil {
			return err
		}
		return u.StartImport(ctx, account, id)
	})
	if err == nil {
		select {
		case s.imports <- struct{}{}:
		default:
		}
	}
	return err
}

// importSweep is how often RunImports looks for imports to take up
// without being told: those of a process that stopped.
const importSweep = 5 * time.Second

// RunImports runs the imports started in this process at once (StartImport
// wakes it), and every importSweep the running imports that no process
// holds (their process stopped), until ctx ends.
func (s *Service) RunImports(ctx context.Context) {
	t := time.NewTicker(importSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.imports:
		case <-t.C:
		}
		if err := s.ResumeImports(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("imports", "err", err)
		}
		if s.ImportsRan != nil {
			s.ImportsRan()
		}
	}
}

// ImportProgress is how far an import is, with the rows it skipped (the
// first ones, for a page) and why.
type ImportProgress struct {
	store.MemberImport
	SkippedRows []ImportProblem
}

// Done reports whether every row of the import is done.
func (p ImportProgress) Done() bool { return p.Status == "done" }

// ImportStatus returns how far the account's import is. The actor needs
// members.manage.
func (s *Service) ImportStatus(ctx context.Context, actor Actor, account, id equipe.ID) (ImportProgress, error) {
	if _, _, err := s.authorize(ctx, actor, account, "members.manage"); err != nil {
		return ImportProgress{}, err
	}
	m, err := s.DB.Import(ctx, account, id)
	if err != nil {
		return ImportProgress{}, err
	}
	p := ImportProgress{MemberImport: m}
	rows, err := s.DB.SkippedImportRows(ctx, id, 200)
	if err != nil {
		return ImportProgress{}, err
	}
	for _, r := range rows {
		var d importData
		json.Unmarshal([]byte(r.Data), &d)
		p.SkippedRows = append(p.SkippedRows, ImportProblem{Line: r.Line, Column: refusalColumn(r.Reason), Key: r.Reason,
			Args: map[string]any{"email": d.Email}, Email: d.Email})
	}
	return p, nil
}

// RunImport does the running import id to its end, a batch of rows at a
// time, while this process holds it. A batch is one unit of work: each row
// through AddMember or ChangeMember (its event, its invitation queued to
// the outbox), the rows' outcomes and the import's progress, and for the
// last batch the import's event (members.imported). A process that stops
// loses at most the batch it was doing, which is done again from the start
// when the import is taken up: no row is applied twice. A row the rules
// refuse now (the actor lost a right, someone else changed the member) is
// skipped with the reason, and the rest of its batch applied (see
// applyRows). progress, when set, is told after each batch. It returns when
// the import is done, when another process holds it, or when ctx ends.
func (s *Service) RunImport(ctx context.Context, id equipe.ID, progress func(store.MemberImport)) error {
	ok, err := s.DB.ClaimImport(ctx, id, s.now(), s.now().Add(importLease))
	if err != nil || !ok {
		return err
	}
	defer s.DB.ReleaseImport(context.WithoutCancel(ctx), id)
	var m store.MemberImport
	if err := s.DB.QueryImport(ctx, id, &m); err != nil {
		return err
	}
	actor, err := s.loadActor(ctx, m.Actor)
	gone := err != nil
	if gone && equipe.ErrorCode(err) != equipe.ENOTFOUND {
		return err
	}
	for {
		rows, err := s.DB.PendingImportRows(ctx, id, importBatch)
		if err != nil {
			return err
		}
		last := len(rows) < importBatch
		record := func(u *work.Unit) error {
			if err := u.RecordImportRows(ctx, id, rows, last, u.Now()); err != nil {
				return err
			}
			if !last {
				return nil
			}
			if err := u.QueryImport(ctx, id, &m); err != nil {
				return err
			}
			return u.Record(ctx, event.MembersImported.In(m.AccountID, m.AccountID.String(), nil, &event.Import{
				ImportID: id, Rows: m.Total, Added: m.Added, Updated: m.Updated, Unchanged: m.Unchanged, Skipped: m.Skipped}))
		}
		if gone {
			for i := range rows {
				rows[i].Outcome, rows[i].Reason = "skipped", "import.actor_gone"
			}
			err = s.do(ctx, actor, record)
		} else {
			ds := make([]importData, len(rows))
			for i, r := range rows {
				if err := json.Unmarshal([]byte(r.Data), &ds[i]); err != nil {
					return err
				}
			}
			_, err = s.applyRows(ctx, actor, m.AccountID, ds, false, func(u *work.Unit, done []rowDone) error {
				for i, d := range done {
					rows[i].Outcome, rows[i].Reason = d.outcome, ""
					if d.err != nil {
						rows[i].Outcome, rows[i].Reason = "skipped", equipe.AsError(d.err).Key
					}
				}
				return record(u)
			})
		}
		if equipe.ErrorCode(err) == equipe.ECONFLICT && equipe.AsError(err).Key == store.ImportRowsTaken {
			// Another process took the import up and did these rows.
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.DB.QueryImport(ctx, id, &m); err != nil {
			return err
		}
		if progress != nil {
			progress(m)
		}
		if last {
			return nil
		}
		if ok, err := s.DB.ClaimImportAgain(ctx, id, s.now().Add(importLease)); err != nil || !ok {
			return err
		}
	}
}

// lookUpBatch reads, in the unit of a batch of an import's rows ds, in two
// statements, the users of their addresses and those of them who are
// members of the account already, for the rows (importRow) and AddMember
// to take instead of a statement or two each.
func (s *Service) lookUpBatch(ctx context.Context, u *work.Unit, account equipe.ID, ds []importData) error {
	j, _ := ctx.Value(joinedKey{}).(*joinedUnit)
	keys := make([]string, 0, len(ds))
	for _, d := range ds {
		if _, key, problem := identity.NormalizeEmail(d.Email); problem == "" {
			keys = append(keys, key)
		}
	}
	users, err := u.UsersByEmailKeys(ctx, keys)
	if err != nil {
		return err
	}
	ids := make([]equipe.ID, 0, len(users))
	for _, key := range keys {
		if usr, ok := users[key]; ok {
			j.looked[key] = lookedUp{user: usr}
			ids = append(ids, usr.ID)
		} else {
			j.looked[key] = lookedUp{err: notFound()}
		}
	}
	if j.members, err = u.MembersAmong(ctx, account, ids); err != nil {
		return err
	}
	j.prefetched = true
	return nil
}

// rowDone is what became of a row of a batch: its outcome (added, updated,
// unchanged), or the refusal that skipped it.
type rowDone struct {
	outcome string
	err     error
}

// errRowRefused ends the first try of a batch in which a row was refused.
var errRowRefused = errors.New("team: a row of the batch was refused")

// applyRows applies the rows ds of an import into the account in one unit
// of work, each through importRow with the unit joined (see joining), then
// then(u, what became of each row), when set, in the same unit. Refusals
// (the rules, the throttles, the last administrator) skip their row and
// change nothing, and the rest of the batch stands: the batch is first
// tried whole, which is what a planned import almost always is, and if a
// row is refused, it is tried again with each row in a savepoint, a
// refused row undone to it. A row that fails otherwise (a fault, logged)
// is skipped as error.internal. With rehearse (the dry run), every row is
// undone to its savepoint, so that each is judged alone, the whole unit
// rolled back, and a row that fails otherwise fails the batch.
func (s *Service) applyRows(ctx context.Context, actor Actor, account equipe.ID, ds []importData, rehearse bool,
	then func(u *work.Unit, done []rowDone) error) ([]rowDone, error) {
	done := make([]rowDone, len(ds))
	apart := rehearse // each row in a savepoint of its own
	for {
		err := s.Work.Do(ctx, actor.recorded(), equipe.Origin{IP: actor.IP}, func(u *work.Unit) error {
			jctx := joining(importing(ctx), u)
			if err := s.lookUpBatch(jctx, u, account, ds); err != nil {
				return err
			}
			if !apart {
				// The rows' writes wait to be written together, a statement
				// for each kind (users, members, events, …) instead of one
				// for each row: on PostgreSQL a round trip each.
				u.Defer()
			}
			for i, d := range ds {
				var sp *store.Savepoint
				if apart {
					var err error
					if sp, err = u.Savepoint(ctx); err != nil {
						return err
					}
				}
				outcome, err := s.importRow(jctx, actor, account, d)
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
				if err != nil && !isRefusal(err) {
					if rehearse {
						return err
					}
					if apart {
						s.Log.Error("import: a row failed", "account", account, "email", d.Email, "err", err)
						err = &equipe.Error{Code: equipe.EINTERNAL, Key: "error.internal"}
					}
				}
				if err != nil && !apart {
					return errRowRefused
				}
				done[i] = rowDone{outcome: outcome, err: err}
				if sp == nil {
					continue
				}
				if rehearse || err != nil {
					err = sp.Rollback(ctx)
					undone(jctx)
				} else {
					err = sp.Release(ctx)
				}
				if err != nil {
					return err
				}
			}
			if !apart {
				if err := u.Flush(ctx); err != nil {
					// A write broke a constraint, and which row made it is not
					// known: the rows are tried again each alone.
					s.Log.Info("import: a batch failed whole", "account", account, "err", err)
					return errRowRefused
				}
			}
			if then != nil {
				if err := then(u, done); err != nil {
					return err
				}
			}
			if rehearse {
				return errRehearsed
			}
			return nil
		})
		switch {
		case errors.Is(err, errRowRefused):
			apart = true
			continue
		case errors.Is(err, errRehearsed):
			err = nil
		}
		return done, err
	}
}

// ResumeImports runs, one after the other, the imports whose process
// stopped: those running that no process holds.
func (s *Service) ResumeImports(ctx context.Context) error {
	ids, err := s.DB.StalledImports(ctx, s.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.RunImport(ctx, id, nil); err != nil {
			return err
		}
	}
	return nil
}

// CleanupImports deletes the planned imports never started within a day.
func (s *Service) CleanupImports(ctx context.Context) error {
	_, err := s.DB.DeleteStaleImports(ctx, s.now().Add(-plannedImportTTL))
	return err
}
