package api

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/team"
)

// HeartbeatEvery is how often an idle Server-Sent Events stream of changes
// sends a comment, so that proxies keep it open and a client can tell a
// quiet stream from a dead one.
const HeartbeatEvery = 15 * time.Second

// CloseStreams ends every change stream being served and every one that
// starts from then on ends at once: the server calls it when it shuts down,
// so that shutting down does not wait for streams that never end by
// themselves. Clients resume with Last-Event-ID.
func (a *API) CloseStreams() {
	stop := a.streamsStopped()
	a.streams.close.Do(func() { close(stop) })
}

// streamsStopped returns the channel CloseStreams closes.
func (a *API) streamsStopped() chan struct{} {
	a.streams.init.Do(func() { a.streams.stop = make(chan struct{}) })
	return a.streams.stop
}

// streamStop ends the change streams (see CloseStreams).
type streamStop struct {
	init, close sync.Once
	stop        chan struct{}
}

// changesPage is a page of the change stream's JSON form.
type changesPage struct {
	Data       []event.Public `json:"data"`
	NextCursor string         `json:"next_cursor"`
}

// wantsEventStream reports whether the request asks for Server-Sent Events.
func wantsEventStream(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

// changes serves GET /api/v1/changes: the events the key may see, in commit
// order, as a page of JSON or, with Accept: text/event-stream, as a stream
// that goes on as changes commit.
func (a *API) changes(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cq := team.ChangesQuery{After: q.Get("after"), Limit: team.DefaultChangesPage}
	if s := q.Get("types"); s != "" {
		for _, t := range strings.Split(s, ",") {
			cq.Types = append(cq.Types, event.Type(strings.TrimSpace(t)))
		}
	}
	if !wantsEventStream(r) {
		cq.Limit = equipe.ParseLimit(q.Get("limit"), team.DefaultChangesPage)
		page, next, err := a.Team.Changes(r.Context(), actor(r), cq)
		if err != nil {
			return err
		}
		out := changesPage{Data: make([]event.Public, len(page)), NextCursor: next}
		for i, c := range page {
			out.Data[i] = c.Event.Public()
		}
		return respond(w, http.StatusOK, out)
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		cq.After = id
	}
	cq.Limit = team.MaxChangesPage
	// The first page is read before answering, so that a refusal (a bad
	// cursor, an expired one, a key that may not read) is a problem
	// document, not a stream.
	wake := a.Team.ChangesSignal()
	page, next, err := a.Team.Changes(r.Context(), actor(r), cq)
	if err != nil {
		return err
	}
	stopped := a.streamsStopped()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString("retry: 1000\n\n")
	heartbeat := time.NewTicker(HeartbeatEvery)
	defer heartbeat.Stop()
	for {
		for _, c := range page {
			buf.WriteString("id: ")
			buf.WriteString(c.Cursor)
			buf.WriteString("\nevent: ")
			buf.WriteString(string(c.Event.Type))
			buf.WriteString("\ndata: ")
			if err := json.MarshalWrite(&buf, c.Event.Public()); err != nil {
				return nil
			}
			buf.WriteString("\n\n")
		}
		if buf.Len() > 0 {
			// Each write may take up to a heartbeat and a half: a reader
			// that takes longer is dropped (it resumes with Last-Event-ID).
			rc.SetWriteDeadline(time.Now().Add(HeartbeatEvery * 3 / 2))
			if _, err := w.Write(buf.Bytes()); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
			buf.Reset()
		}
		if len(page) < cq.Limit {
			select {
			case <-r.Context().Done():
				return nil
			case <-stopped:
				return nil
			case <-heartbeat.C:
				page = nil
				buf.WriteString(": heartbeat\n\n")
				continue
			case <-wake:
			}
		}
		wake = a.Team.ChangesSignal()
		cq.After = next
		if page, next, err = a.Team.Changes(r.Context(), actor(r), cq); err != nil {
			switch code := equipe.ErrorCode(err); {
			case r.Context().Err() != nil:
			case code == equipe.EUNAUTHORIZED || code == equipe.EFORBIDDEN:
				// The key was revoked, or its creator may no longer act:
				// what a stream is expected to do then, not a fault.
				var key equipe.ID
				if k := actor(r).Key; k != nil {
					key = k.ID
				}
				a.Log.Info("change stream ended: its key may no longer act", "key_id", key, "reason", equipe.AsError(err).Key)
			default:
				a.Log.Warn("change stream ended", "err", err)
			}
			return nil
		}
	}
}
