package event

import (
	"time"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
)

// Public is the public JSON form of an event: what the audit API, the change
// stream and webhooks carry (docs/events.md, An event). It holds no request
// address: the address a change came from is personal data, shown only in
// the audit log to whoever may read it (the audit API adds it), never sent
// out of equipe to a stream or a webhook.
type Public struct {
	ID        equipe.ID  `json:"id"`
	Type      Type       `json:"type"`
	AccountID *equipe.ID `json:"account_id"`
	Actor     Actor      `json:"actor"`
	Subject   Subject    `json:"subject"`
	Before    State      `json:"before"`
	After     State      `json:"after"`
	At        time.Time  `json:"at"`
}

// Public returns the public form of e. Its time is in UTC, to the
// microsecond, as the log stores it.
func (e Event) Public() Public {
	return Public{ID: e.ID, Type: e.Type, AccountID: e.Account, Actor: e.Actor, Subject: e.Subject, Before: e.Before,
		After: e.After, At: e.At.UTC().Truncate(time.Microsecond)}
}

// MarshalPublic returns the public JSON of e.
func MarshalPublic(e Event) ([]byte, error) { return json.Marshal(e.Public()) }
