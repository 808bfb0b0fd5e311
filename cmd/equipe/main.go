package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/app"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/store"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "equipe:", err)
		}
		os.Exit(2)
	}
}

const usage = `equipe — account and team management for SaaS products

Usage:
  equipe serve [flags]          run the service
  equipe migrate [flags]        bring the database schema up to date
  equipe create-admin [flags]   create an instance administrator
  equipe import-members [flags] FILE  import members from a CSV file into an account
  equipe reseal-secrets [flags] seal every stored secret under the current secret key
  equipe clients create|list|rotate-secret|delete  manage the OpenID Connect clients
  equipe version                print the version

Run "equipe <command> -h" for the flags of a command.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr, getenv)
	case "migrate":
		return migrate(ctx, args, stdout, stderr, getenv)
	case "create-admin":
		return createAdmin(ctx, args, stdin, stdout, stderr, getenv)
	case "import-members":
		return importMembers(ctx, args, stdout, stderr, getenv)
	case "reseal-secrets":
		return resealSecrets(ctx, args, stdout, stderr, getenv)
	case "clients":
		return clients(ctx, args, stdout, stderr, getenv)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "equipe", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// logger writes text to a terminal and JSON elsewhere, unless format says.
func logger(format string, level slog.Level, w io.Writer) *slog.Logger {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// build makes the service from a configuration, logging to stderr.
func build(ctx context.Context, cfg app.Config, stderr io.Writer, opt app.Options) (*app.App, error) {
	return app.New(ctx, cfg, logger(cfg.LogFormat, cfg.LogLevel, stderr), opt)
}

func serve(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	cfg, err := app.ParseConfig("serve", args, getenv)
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, stderr, app.Options{})
	if err != nil {
		return err
	}
	if _, set := app.LimitMemory(a.Config, a.Log, getenv); set {
		go app.FollowCache(ctx, a.Config, a.Team.CacheMapped, time.Second)
	}
	l, err := a.Listen()
	if err != nil {
		a.Close()
		return &app.SettingError{Env: "EQUIPE_ADDR", Flag: "addr", Problem: err.Error()}
	}
	// Once serving has begun, and not before: the pages that the first
	// requests need would be read back while a starting process is waited for.
	go func() {
		select {
		case <-time.After(2 * time.Second):
			app.ReleaseStartPages(a.Log)
		case <-ctx.Done():
		}
	}()
	return a.Serve(ctx, l)
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := app.ParseConfig("migrate", args, getenv)
	if err != nil {
		return err
	}
	log := logger(cfg.LogFormat, cfg.LogLevel, stderr)
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d (%d applied now)\n", v, len(applied))
	return nil
}

func createAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the administrator's login email (required)")
	first := fs.String("first-name", "", "first name (required)")
	last := fs.String("last-name", "", "last name (required)")
	locale := fs.String("locale", equipe.LocaleFR, "language: fr or en")
	// The database flags are shared with serve; split ours off first.
	own, rest := splitFlags(fs, args)
	if err := fs.Parse(own); err != nil {
		return err
	}
	for _, a := range rest {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintln(stderr, "Usage: equipe create-admin --email E --first-name F --last-name L [--locale fr|en] [settings]")
			fmt.Fprintln(stderr, "The password is asked at a prompt, or read from the first line of standard input.")
			fs.PrintDefaults()
			fmt.Fprintln(stderr, "\nSettings (the database to use):")
		}
	}
	cfg, err := app.ParseConfig("create-admin", rest, getenv)
	if err != nil {
		return err
	}
	password, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	// The privacy policy is serve's to publish: this command may run
	// without its settings.
	a, err := build(ctx, cfg, stderr, app.Options{KeepPolicy: true, Beside: true})
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Identity.CreateAdmin(ctx, identity.NewAdmin{Email: *email, FirstName: *first, LastName: *last,
		Locale: *locale, Password: password})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "instance administrator %s created (%s)\n", u.Email, u.ID)
	return nil
}

// resealSecrets seals again, under EQUIPE_SECRET_KEY, the authenticator
// seeds, the webhook signing secrets and the OpenID Connect signing keys
// sealed under a key of
// EQUIPE_SECRET_KEY_PREVIOUS: the last step of
// a key rotation (docs/operations.md).
func resealSecrets(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := app.ParseConfig("reseal-secrets", args, getenv)
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, stderr, app.Options{KeepPolicy: true, Beside: true})
	if err != nil {
		return err
	}
	defer a.Close()
	moved, left, err := a.Identity.ResealSecrets(ctx)
	if err != nil {
		return err
	}
	hooksMoved, hooksLeft, err := a.Team.ResealWebhookSecrets(ctx)
	if err != nil {
		return err
	}
	keysMoved, keysLeft, err := a.SigningKeys.Reseal(ctx)
	if err != nil {
		return err
	}
	moved, left = moved+hooksMoved+keysMoved, left+hooksLeft+keysLeft
	fmt.Fprintf(stdout, "%d secrets sealed again under the current key; %d remain under keys not given\n", moved, left)
	if left > 0 {
		return fmt.Errorf("%d secrets are sealed under keys not in EQUIPE_SECRET_KEY_PREVIOUS", left)
	}
	return nil
}

// readPassword reads the password at a prompt without echo on a terminal,
// or as the first line of standard input otherwise. It is never a flag:
// flags show in process lists and shell history.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Password again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(b) != string(again) {
			return "", errors.New("the two passwords differ")
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// describe turns a use case's error into one line for the terminal, in
// English, naming the flags at fault.
func describe(err error) error {
	e := equipe.AsError(err)
	if e.Code == equipe.EINTERNAL {
		return err
	}
	cat := i18n.MustLoad()
	if len(e.Fields) == 0 {
		return errors.New(cat.T(equipe.LocaleEN, e.Key, e.Args))
	}
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, "--"+strings.ReplaceAll(f.Field, "_", "-")+": "+cat.T(equipe.LocaleEN, f.Key, f.Args))
	}
	return errors.New(strings.Join(parts, "; "))
}
