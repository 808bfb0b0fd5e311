package openid

import (
	"context"
	"log/slog"
	"os"
	"sync"
)

// zitadel/oidc's op package logs through slog's default logger only (its
// WithLogger option does nothing), with the request's context. So that its
// lines reach the service's logger, with the service's format and fields,
// the provider carries its logger in the context of each request it serves,
// and the process's default logger hands each record to the logger its
// context carries. Records without one (none of the provider's) go to
// standard error as text, as slog's default would.

type logKey struct{}

// routeDefaultLog makes slog's default logger route records by their
// context, once per process.
var routeDefaultLog = sync.OnceFunc(func() {
	// Not the previous default handler: it writes through the log package,
	// which SetDefault points back at the default logger.
	slog.SetDefault(slog.New(contextHandler{fallback: slog.NewTextHandler(os.Stderr, nil)}))
})

// contextHandler hands a record to the logger in its context, at the level
// that suits the service: an OAuth error that is the client's (a bad
// request, an unknown or spent token, which op logs as a warning) is
// information about the client, not a warning about the service.
type contextHandler struct {
	fallback slog.Handler
	attrs    []slog.Attr
	group    string
}

func (h contextHandler) target(ctx context.Context) slog.Handler {
	if ctx != nil {
		if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok && l != nil {
			return l.Handler()
		}
	}
	return h.fallback
}

func (h contextHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.target(ctx).Enabled(ctx, level)
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	t := h.target(ctx)
	if t != h.fallback && r.Level == slog.LevelWarn {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "oidc_error" {
				r.Level = slog.LevelInfo
				return false
			}
			return true
		})
		if !t.Enabled(ctx, r.Level) {
			return nil
		}
	}
	if h.group != "" {
		t = t.WithGroup(h.group)
	}
	if len(h.attrs) > 0 {
		t = t.WithAttrs(h.attrs)
	}
	return t.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)
	return h
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	h.group = name
	return h
}
