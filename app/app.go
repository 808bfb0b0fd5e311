package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/api"
	"github.com/equipe-dev/equipe/authzen"
	"github.com/equipe-dev/equipe/brand"
	"github.com/equipe-dev/equipe/httpauth"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/idempotency"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/mail"
	"github.com/equipe-dev/equipe/metrics"
	"github.com/equipe-dev/equipe/openid"
	"github.com/equipe-dev/equipe/scim"
	"github.com/equipe-dev/equipe/server"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/team"
	"github.com/equipe-dev/equipe/web"
	"github.com/equipe-dev/equipe/webhook"
	"github.com/equipe-dev/equipe/work"
)

// Options are what tests change: a faster password hash, a clock.
type Options struct {
	Params identity.Params    // default identity.DefaultParams
	Now    func() time.Time   // default time.Now
	Worker func(*mail.Worker) // adjusts the mail worker before it starts
	// Webhooks adjusts the webhook worker before it starts (a test's
	// clock, resolver or schedule).
	Webhooks func(*webhook.Worker)
	// Logouts adjusts the back-channel logout worker before it starts.
	Logouts func(*openid.Logouts)
	// KeepPolicy leaves the published privacy policy alone (for commands
	// other than serve, which may run without the policy settings).
	KeepPolicy bool
	// Beside: a command run beside the service on the same database (every
	// command but serve): on SQLite its changes are written down for the
	// service to hear (store.Config.Beside).
	Beside bool
}

// App is the running service.
type App struct {
	Config    Config
	Log       *slog.Logger
	DB        *store.DB
	Catalogue *access.Catalogue
	Identity  *identity.Service
	Team      *team.Service
	// Idempotency keeps the API's answers to requests with an Idempotency-Key.
	Idempotency *idempotency.Service
	Mail        *mail.Templates
	Worker      *mail.Worker
	Webhooks    *webhook.Worker
	// SigningKeys are the OpenID Connect provider's signing keys.
	SigningKeys *openid.Keys
	// SignIn is the OpenID Connect provider.
	SignIn *openid.Provider
	// Logouts delivers the provider's back-channel logout tokens.
	Logouts *openid.Logouts
	Mailbox *mail.DevMailbox // the development mailbox; nil when SMTP is configured
	// Brand is the brand in force: the configured one with the settings
	// an administrator stored over it, as they change.
	Brand   *brand.Live
	Handler http.Handler
	Metrics *metrics.Metrics

	metricsListener net.Listener // Config.MetricsAddr's; nil when none

	closeStreams func() // ends the API's change streams (at shutdown)
	flushLog     func() // logs the check API's calls not yet summed up (at shutdown)
}

// New builds the service: it opens the database and migrates it, publishes
// the configured privacy policy, and assembles everything. It starts
// nothing; call Serve.
func New(ctx context.Context, cfg Config, log *slog.Logger, opt Options) (*App, error) {
	if opt.Params == (identity.Params{}) {
		opt.Params = identity.DefaultParams
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log, Beside: opt.Beside})
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: db}
	if err := a.build(ctx, opt); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context, opt Options) error {
	cfg := a.Config
	if _, err := a.DB.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if cfg.Brand.Name == "" {
		cfg.Brand = brand.Default()
		a.Config.Brand = cfg.Brand
	}
	if cfg.Brand.KeyPrefix == "" {
		cfg.Brand.KeyPrefix = brand.KeyPrefixFor(cfg.Brand.Name)
		a.Config.Brand = cfg.Brand
	}
	if err := equipe.CheckKeyPrefix(cfg.Brand.KeyPrefix); err != nil {
		return &SettingError{Env: "EQUIPE_BRAND_KEY_PREFIX", Flag: "brand-key-prefix", Problem: err.Error()}
	}
	var override fs.FS
	if cfg.TemplatesDir != "" {
		override = os.DirFS(cfg.TemplatesDir)
	}
	// The brand in force: the configured one with the settings an
	// administrator stored over it (StartBrand, below), read by every page
	// and email when it is made.
	a.Brand = brand.NewLive(cfg.Brand)
	tmpl, err := mail.NewLiveTemplates(cfg.PublicURL, override, a.Brand)
	if err != nil {
		if cfg.TemplatesDir != "" {
			return &SettingError{Env: "EQUIPE_TEMPLATES_DIR", Flag: "templates-dir", Problem: cfg.TemplatesDir + ": " + err.Error()}
		}
		return err
	}
	tmpl.Now = opt.Now
	a.Mail = tmpl

	var sender mail.Sender
	if cfg.SMTP == nil {
		a.Mailbox = &mail.DevMailbox{Now: opt.Now, Product: cfg.Brand.Name, Brand: a.Brand}
		sender = a.Mailbox
	} else {
		s, err := mail.NewSMTPSender(*cfg.SMTP, cfg.MailFrom)
		if err != nil {
			return fmt.Errorf("EQUIPE_SMTP_URL: %w", err)
		}
		sender = s
	}
	a.Worker = &mail.Worker{DB: a.DB, Sender: sender, Logger: a.Log.With("component", "mail"), Now: opt.Now}
	if opt.Worker != nil {
		opt.Worker(a.Worker)
	}

	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	cat.Product = cfg.Brand.Name
	cat.Brand = a.Brand
	if a.Catalogue, err = access.Load(cfg.Catalogue); err != nil {
		return &SettingError{Env: "EQUIPE_CATALOGUE", Flag: "catalogue", Problem: err.Error()}
	}
	var resourceTypes []string
	for _, rt := range a.Catalogue.ResourceTypes {
		resourceTypes = append(resourceTypes, rt.Key)
	}
	runner := &work.Runner{DB: a.DB, Mail: tmpl, PublicURL: cfg.PublicURL, Clock: opt.Now, Rand: rand.Reader,
		EmailQueued: a.Worker.Wake}
	hasher := identity.NewHasher(opt.Params)
	id := identity.New(runner, hasher, identity.Config{ResourceTypes: resourceTypes, Product: cfg.Brand.Name})
	id.Log = a.Log.With("component", "identity")
	id.Brand = a.Brand
	hasher.SetLog(id.Log)
	keys, fromDataDir, err := keyring(cfg)
	if err != nil {
		return err
	}
	id.Keys = keys
	if fromDataDir && a.DB.Engine() == store.Postgres {
		a.Log.Warn("no secret key configured (EQUIPE_SECRET_KEY): the key made in the data directory is used; "+
			"several processes on this database each need the same key: configure EQUIPE_SECRET_KEY (or EQUIPE_SECRET_KEY_FILE) on every one",
			"key_file", filepath.Join(cfg.DataDir, SecretKeyFile))
	}
	a.Team = team.New(runner, a.Catalogue, id.Config.LinkValidity)
	cacheMB := cfg.CacheMB
	if cacheMB <= 0 {
		cacheMB = DefaultCacheMB
	}
	a.Team.SetCacheBudget(int64(cacheMB) << 20)
	a.Team.Secrets = keys
	rules := webhook.Rules{AllowHTTPLoopback: cfg.WebhooksAllowHTTPLoopback}
	a.Team.WebhookRules = rules
	a.Webhooks = &webhook.Worker{DB: a.DB, Keys: keys, Client: rules.Client(webhook.DefaultTimeout, nil),
		Logger: a.Log.With("component", "webhooks"), Now: opt.Now, Disable: a.Team.DisableFailingWebhook,
		Viewer: a.Team.WebhookViewer}
	if opt.Webhooks != nil {
		opt.Webhooks(a.Webhooks)
	}
	a.SigningKeys = &openid.Keys{Work: runner, Secrets: keys}
	a.Team.TimeZone = cfg.TimeZone
	a.Team.KeyPrefix = cfg.Brand.KeyPrefix
	a.Team.Log = a.Log.With("component", "team")
	if err := a.Team.StartBrand(ctx, cfg.Brand, a.Brand); err != nil {
		return fmt.Errorf("brand settings: %w", err)
	}
	id.PolicyLabel = cat.PolicyLabel
	a.Identity = id
	a.Idempotency = &idempotency.Service{DB: a.DB, Now: opt.Now}
	if !opt.KeepPolicy {
		if err := id.PublishPolicy(ctx, cfg.Policy); err != nil {
			return fmt.Errorf("privacy policy: %w", err)
		}
	}

	signIn, err := openid.New(cfg.PublicURL.String(), runner, a.Team, a.SigningKeys, a.Log.With("component", "oidc"))
	if err != nil {
		return fmt.Errorf("openid connect provider: %w", err)
	}
	signIn.EndSession = func(ctx context.Context, auth identity.Auth) error {
		return id.LogOut(ctx, auth, equipe.Origin{})
	}
	a.SignIn = signIn
	a.Logouts = &openid.Logouts{DB: a.DB, Keys: a.SigningKeys, Issuer: strings.TrimSuffix(cfg.PublicURL.String(), "/"),
		Client: rules.Client(webhook.DefaultTimeout, nil), Log: a.Log.With("component", "oidc"), Now: opt.Now}
	if opt.Logouts != nil {
		opt.Logouts(a.Logouts)
	}
	cookies := httpauth.Cookies{Secure: cfg.PublicURL.Scheme == "https"}
	apiDoc := api.DocumentFor(cfg.Brand.Name, cfg.Brand.KeyPrefix)
	w := &web.Web{Identity: id, Team: a.Team, Catalogue: a.Catalogue, Cookies: cookies, I18n: cat, SignIn: signIn,
		Log: a.Log.With("component", "web"), DevMailbox: a.Mailbox != nil && localHost(cfg.PublicURL.Hostname()),
		Brand: a.Brand, APIDocument: apiDoc, APIDocumentOf: func(b brand.Brand) []byte { return api.DocumentFor(b.Name, b.KeyPrefix) }}
	signIn.Pages = w
	webHandler, err := w.Handler()
	if err != nil {
		return err
	}
	a.Metrics = metrics.New(metrics.Sources{
		Team:     a.Team.Stats,
		Identity: id.Stats,
		Emails:   a.Worker.Stats,
		Webhooks: a.Webhooks.Stats,
		Backlog:  a.Worker.Backlog,
		Pools: func() []metrics.Pool {
			var out []metrics.Pool
			for _, p := range a.DB.Pools() {
				out = append(out, metrics.Pool{Name: p.Name, Stats: p.Stats})
			}
			return out
		},
		Now: opt.Now,
	})
	if cfg.MetricsAddr != "" {
		if a.metricsListener, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return &SettingError{Env: "EQUIPE_METRICS_ADDR", Flag: "metrics-addr", Problem: err.Error()}
		}
	}
	jsonAPI := &api.API{Identity: id, Team: a.Team, Idempotency: a.Idempotency, Catalogue: a.Catalogue, Cookies: cookies, I18n: cat,
		Log: a.Log.With("component", "api"), SignIn: signIn, Document: apiDoc, Brand: a.Brand}
	a.closeStreams = jsonAPI.CloseStreams
	az := &authzen.Service{Team: a.Team, Catalogue: a.Catalogue, I18n: cat, Log: a.Log.With("component", "authzen"),
		PDP: strings.TrimSuffix(cfg.PublicURL.String(), "/")}
	provisioning := &scim.Service{Team: a.Team, I18n: cat, Log: a.Log.With("component", "scim"),
		Base: strings.TrimSuffix(cfg.PublicURL.String(), "/")}
	srv := &server.Server{
		Metrics:          a.Metrics,
		MetricsNetworks:  cfg.MetricsNetworks,
		MetricsElsewhere: cfg.MetricsAddr != "",
		PublicURL:        cfg.PublicURL,
		DB:               a.DB,
		Auth: &httpauth.Middleware{Identity: id, Keys: a.Team, Cookies: cookies,
			TrustedProxies: cfg.TrustedProxies},
		Web:               webHandler,
		Pages:             w,
		API:               jsonAPI.Handler(),
		AuthZEN:           az.Handler(),
		AuthZENEvaluation: az.EvaluationHandler(),
		SCIM:              provisioning.Handler(),
		OIDC:              signIn,
		I18n:              cat,
		Log:               a.Log.With("component", "http"),
	}
	if a.Mailbox != nil {
		// The mailbox shows live one-time links: it is served only on an
		// instance whose public address is this machine. Elsewhere emails
		// wait in it unseen, and the operator is told to configure SMTP.
		if localHost(cfg.PublicURL.Hostname()) {
			srv.DevMail = a.Mailbox.Handler()
		} else {
			a.Log.Warn("no SMTP server configured (EQUIPE_SMTP_URL): emails are kept in the development mailbox, "+
				"which is not served because the public URL is not on this machine", "public_url", cfg.PublicURL.String())
		}
	}
	a.Handler, err = srv.Handler()
	a.flushLog = srv.FlushLog
	return err
}

// localHost reports whether host names this machine: localhost or a
// loopback address.
func localHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// Listen opens the configured address.
func (a *App) Listen() (net.Listener, error) {
	return net.Listen("tcp", a.Config.Addr)
}

// Serve serves HTTP on l, delivers email and cleans up expired data until ctx
// is done, then shuts down gracefully: it stops accepting connections,
// lets requests in flight finish (up to 10 s), lets the mail worker finish
// the email in hand, and closes the database.
func (a *App) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	// Change streams never end by themselves: they are told to when the
	// server shuts down, so that shutting down does not wait for them.
	if a.closeStreams != nil {
		hs.RegisterOnShutdown(a.closeStreams)
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Worker.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			a.Log.Error("mail worker stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := a.Webhooks.Run(bg); err != nil {
			a.Log.Error("webhook worker stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := a.Logouts.Run(bg); err != nil {
			a.Log.Error("back-channel logout worker stopped", "err", err)
		}
	})
	wg.Go(func() { a.maintain(bg) })
	wg.Go(func() { a.Identity.RunResets(bg) })
	wg.Go(func() { a.Team.RunImports(bg) })
	wg.Go(func() { a.DB.Listen(bg) })

	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(l) }()
	var ms *http.Server
	if a.metricsListener != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.Metrics.Handler())
		ms = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
			ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
		go func() { errc <- ms.Serve(a.metricsListener) }()
		a.Log.Info("serving metrics", "addr", a.metricsListener.Addr().String())
	}
	a.Log.Info("serving", "addr", l.Addr().String(), "public_url", a.Config.PublicURL.String(),
		"database", string(a.DB.Engine()), "mail", a.mailMode())
	if off := a.Identity.PasskeysOff; off != nil {
		a.Log.Info("passkeys unavailable", "reason", off.Error())
	}

	var err error
	select {
	case err = <-errc:
		hs.Close()
	case <-ctx.Done():
		a.Log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		err = hs.Shutdown(sctx)
		if ms != nil {
			ms.Shutdown(sctx)
		}
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			// Shutdown leaves the requests still running to themselves:
			// they are cut off here, before the database closes under them.
			hs.Close()
			err = fmt.Errorf("shutdown timed out after %v: the requests still running were cut off", shutdownGrace)
		}
	}
	if ms != nil {
		ms.Close()
	}
	// The requests have ended (or been cut off): the summary of their
	// checks is written now rather than never.
	if a.flushLog != nil {
		a.flushLog()
	}
	stop()
	wg.Wait()
	a.Team.WaitKeyUses()
	if cerr := a.DB.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// shutdownGrace is how long Serve lets the requests in flight finish once
// told to stop.
var shutdownGrace = 10 * time.Second

func (a *App) mailMode() string {
	if a.Mailbox != nil && localHost(a.Config.PublicURL.Hostname()) {
		return "development mailbox at /dev/mail"
	} else if a.Mailbox != nil {
		return "development mailbox, not served"
	}
	return "smtp " + a.Config.SMTP.String()
}

// maintain deletes expired tokens, ended sessions, idle throttles and
// idempotency keys past their 24 hours every ten minutes.
func (a *App) maintain(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.Identity.Cleanup(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("cleanup", "err", err)
			}
			if err := a.SignIn.Cleanup(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("cleanup of OpenID Connect tokens", "err", err)
			}
			if err := a.Team.CleanupImports(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("cleanup of imports", "err", err)
			}
			if _, err := a.Idempotency.Prune(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("cleanup of idempotency keys", "err", err)
			}
		}
	}
}

// MetricsAddr returns the address of the separate metrics listener, "" when
// the metrics are served on the main address.
func (a *App) MetricsAddr() string {
	if a.metricsListener == nil {
		return ""
	}
	return a.metricsListener.Addr().String()
}

// Close releases the database (and the metrics listener) of an App that was
// never served.
func (a *App) Close() error {
	if a.metricsListener != nil {
		a.metricsListener.Close()
	}
	return a.DB.Close()
}
