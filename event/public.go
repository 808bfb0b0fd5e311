package event

import (
	"time"

	"github.com/equipe-dev/equipe"
)

// Public is an event in its public JSON form, as docs/events.md describes
// it: what the audit API, webhooks and the change stream carry.
type Public struct {
	ID        equipe.ID  `json:"id"`
	Type      Type       `json:"type"`
	AccountID *equipe.ID `json:"account_id"`
	Actor     Actor      `json:"actor"`
	Subject   Subject    `json:"subject"`
	Before    State      `json:"before"`
	After     State      `json:"after"`
	IP        string     `json:"ip,omitempty"`
	At        time.Time  `json:"at"`
}

// PublicOf returns the public form of e. withIP keeps the address the
// change came from; readers that are not the account's own log (webhooks)
// leave it out: it is personal data.
func PublicOf(e Event, withIP bool) Public {
	p := Public{ID: e.ID, Type: e.Type, AccountID: e.Account, Actor: e.Actor, Subject: e.Subject, Before: e.Before,
		After: e.After, At: e.At.UTC()}
	if withIP {
		p.IP = e.IP
	}
	return p
}
