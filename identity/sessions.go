package identity

import (
	"context"
	"slices"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// SessionView is one of a person's sessions as they see it: its public ID
// (never its secret nor the secret's hash), the browser and system its
// User-Agent names, the address it logged in from, and when.
type SessionView struct {
	ID         equipe.ID
	Device     Device
	UserAgent  string
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // its absolute end; it ends sooner when idle
	Current    bool      // the session of the request
}

// Sessions returns a page of the person's sessions that still work, the
// newest first, with the cursor of the next page ("" after the last). The
// whole list (the page of one's sessions) puts the current one first, then
// the most recently seen.
func (s *Service) Sessions(ctx context.Context, a Auth, p equipe.Page) ([]SessionView, string, error) {
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	now := s.now()
	// A session works until it expires or stays idle for SessionIdle; the
	// current one works, whatever the database last noted of it.
	all, next, err := s.DB.SessionPage(ctx, a.User.ID, store.SessionFilter{Current: a.Session.ID, Now: now,
		IdleSince: now.Add(-s.Config.SessionIdle)}, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]SessionView, 0, len(all))
	for _, sess := range all {
		current := sess.ID == a.Session.ID
		if current {
			sess.LastSeenAt = a.Session.LastSeenAt
		}
		out = append(out, SessionView{ID: sess.ID, Device: DeviceOf(sess.UserAgent), UserAgent: sess.UserAgent, IP: sess.IP,
			CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt, ExpiresAt: sess.ExpiresAt, Current: current})
	}
	if p.Whole() {
		sortSessions(out)
	}
	return out, next, nil
}

// sortSessions puts the current session first, then the others by last
// activity, newest first.
func sortSessions(v []SessionView) {
	slices.SortStableFunc(v, func(a, b SessionView) int {
		switch {
		case a.Current != b.Current:
			if a.Current {
				return -1
			}
			return 1
		case !a.LastSeenAt.Equal(b.LastSeenAt):
			return b.LastSeenAt.Compare(a.LastSeenAt)
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
}

// EndSession ends one of the person's sessions, by its public ID: another
// browser's, or the current one (which is logging out). A session of
// someone else, or none, answers ENOTFOUND and ends nothing. Audited as
// user.session_ended.
func (s *Service) EndSession(ctx context.Context, a Auth, id equipe.ID, o equipe.Origin) error {
	return s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		n, err := w.DeleteSessionOf(ctx, a.User.ID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return equipe.Errorf(equipe.ENOTFOUND, "error.not_found")
		}
		return w.Record(ctx, event.UserSessionEnded.New(nil, id.String(), nil, nil))
	})
}

// EndOtherSessions ends every session of the person but the current one,
// and returns how many it ended. Audited as user.sessions_ended (none ended
// is recorded too: the person asked).
func (s *Service) EndOtherSessions(ctx context.Context, a Auth, o equipe.Origin) (int, error) {
	var n int64
	err := s.Work.Do(ctx, event.ByUser(a.User.ID), o, func(w *work.Unit) error {
		var err error
		if n, err = w.DeleteOtherSessions(ctx, a.User.ID, a.Session.ID); err != nil {
			return err
		}
		return w.Record(ctx, event.UserSessionsEnded.New(nil, a.User.ID.String(), nil, &event.Sessions{Ended: int(n)}))
	})
	return int(n), err
}
