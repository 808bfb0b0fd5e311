package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
)

// importMembers imports a members file into an account as the operator:
// it checks every line first (and stops there with --dry-run, or when a
// line has a problem), then runs the import with a progress bar. An import
// whose process stopped is taken up by a serving process, or here with
// --resume.
func importMembers(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("import-members", flag.ContinueOnError)
	fs.SetOutput(stderr)
	accountFlag := fs.String("account", "", "the account's ID (required)")
	dry := fs.Bool("dry-run", false, "check every line and report its problems; import nothing")
	resume := fs.String("resume", "", "take up the import with this ID, which a stopped process left running")
	lang := fs.String("lang", equipe.LocaleEN, "language of the messages: fr or en")
	own, rest := splitFlags(fs, args)
	if err := fs.Parse(own); err != nil {
		return err
	}
	var settings, files []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "-h" || a == "-help" || a == "--help":
			fmt.Fprintln(stderr, "Usage: equipe import-members --account ID [--dry-run] [--lang fr|en] FILE [settings]")
			fmt.Fprintln(stderr, "       equipe import-members --account ID --resume IMPORT [settings]")
			fs.PrintDefaults()
			fmt.Fprintln(stderr, "\nSettings (the database to use):")
			settings = append(settings, a)
		case strings.HasPrefix(a, "-"):
			// A setting, with its value unless written --name=value.
			settings = append(settings, a)
			if !strings.Contains(a, "=") && i+1 < len(rest) {
				settings = append(settings, rest[i+1])
				i++
			}
		default:
			files = append(files, a)
		}
	}
	cfg, err := app.ParseConfig("import-members", settings, getenv)
	if err != nil {
		return err
	}
	account, err := equipe.ParseID(*accountFlag)
	if err != nil {
		return errors.New("--account must be an account's ID")
	}
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, stderr, app.Options{KeepPolicy: true, Beside: true})
	if err != nil {
		return err
	}
	defer a.Close()
	actor := team.Actor{Operator: true}
	var id equipe.ID
	if *resume != "" {
		if id, err = equipe.ParseID(*resume); err != nil {
			return errors.New("--resume must be an import's ID")
		}
	} else {
		if len(files) != 1 {
			return errors.New("give one file to import")
		}
		f, err := os.Open(files[0])
		if err != nil {
			return err
		}
		file, err := spreadsheet.ReadMembers(f, cat)
		f.Close()
		if err != nil {
			return err
		}
		plan, err := a.Team.PlanImport(ctx, actor, account, file, !*dry)
		if err != nil {
			return describe(err)
		}
		for _, p := range plan.Problems {
			col := ""
			if p.Column != "" {
				col = ", " + p.Column
			}
			fmt.Fprintf(stdout, "line %d%s: %s\n", p.Line, col, cat.T(*lang, p.Key, p.Args))
		}
		// A row may have several problems, and a problem may be the whole
		// file's (a column): rows are counted apart from problems.
		rows, withProblem := map[int]bool{}, map[int]bool{}
		for _, r := range file.Rows {
			rows[r.Line] = true
		}
		for _, p := range plan.Problems {
			if rows[p.Line] {
				withProblem[p.Line] = true
			}
		}
		fmt.Fprintf(stdout, "%d rows: %d to add, %d to update, %d unchanged, %d with a problem\n",
			plan.Rows, plan.Adds, plan.Updates, plan.Unchanged, len(withProblem))
		switch n := len(plan.Problems); {
		case n == 1:
			return errors.New("1 problem: nothing was imported")
		case n > 1:
			return fmt.Errorf("%d problems: nothing was imported", n)
		}
		if *dry {
			return nil
		}
		id = *plan.ID
		if err := a.Team.StartImport(ctx, actor, account, id); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "import %s started\n", id)
	}
	bar := func(m store.MemberImport) {
		const width = 40
		done := 0
		if m.Total > 0 {
			done = width * m.Processed / m.Total
		}
		fmt.Fprintf(stderr, "\r[%s%s] %d/%d", strings.Repeat("#", done), strings.Repeat(".", width-done), m.Processed, m.Total)
	}
	if err := a.Team.RunImport(ctx, id, bar); err != nil {
		fmt.Fprintln(stderr)
		return fmt.Errorf("import %s stopped (take it up with --resume %s): %w", id, id, err)
	}
	fmt.Fprintln(stderr)
	p, err := a.Team.ImportStatus(ctx, actor, account, id)
	if err != nil {
		return err
	}
	if !p.Done() {
		return fmt.Errorf("import %s is held by another process: it goes on there (or here with --resume once that process stops)", id)
	}
	for _, s := range p.SkippedRows {
		fmt.Fprintf(stdout, "line %d skipped: %s\n", s.Line, cat.T(*lang, s.Key, s.Args))
	}
	fmt.Fprintf(stdout, "import %s done: %d added, %d updated, %d unchanged, %d skipped\n", id, p.Added, p.Updated,
		p.Unchanged, p.MemberImport.Skipped)
	return nil
}

// splitFlags splits args into those of fs (each with its value) and the
// others (the settings shared with serve).
func splitFlags(fs *flag.FlagSet, args []string) (own, rest []string) {
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(strings.SplitN(args[i], "=", 2)[0], "-")
		if f := fs.Lookup(name); f != nil && strings.HasPrefix(args[i], "-") {
			own = append(own, args[i])
			_, boolean := f.Value.(interface{ IsBoolFlag() bool })
			if !strings.Contains(args[i], "=") && !boolean && i+1 < len(args) {
				own = append(own, args[i+1])
				i++
			}
		} else {
			rest = append(rest, args[i])
		}
	}
	return own, rest
}
