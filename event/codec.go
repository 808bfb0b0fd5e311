package event

import (
	"encoding/json"
	"slices"

	"github.com/equipe-dev/equipe"
)

// Encode returns the stored form of e: its states as JSON objects.
func Encode(e Event) (equipe.AuditEvent, error) {
	row := equipe.AuditEvent{ID: e.ID, AccountID: e.Account, Action: string(e.Type), TargetType: string(e.Subject.Kind),
		TargetID: e.Subject.ID, IP: e.IP, At: e.At, ActorType: string(e.Actor.Kind), ActorID: e.Actor.ID,
		ActorName: e.Actor.Name}
	for _, s := range []struct {
		state State
		to    *string
	}{{e.Before, &row.Before}, {e.After, &row.After}} {
		if s.state == nil {
			continue
		}
		b, err := json.Marshal(s.state)
		if err != nil {
			return row, err
		}
		*s.to = string(b)
	}
	return row, nil
}

// Decode reads a stored event back, its states typed by its kind. A state
// that does not fit its kind's type (written by an older version of
// equipe) and the states of a kind no longer declared come back as Raw, so
// that the log can always be read.
func Decode(row equipe.AuditEvent) Event {
	e := Event{ID: row.ID, Type: Type(row.Action), Account: row.AccountID, IP: row.IP, At: row.At,
		Subject: Subject{Kind: SubjectKind(row.TargetType), ID: row.TargetID},
		Actor:   Actor{Kind: ActorKind(row.ActorType), ID: row.ActorID, Name: row.ActorName}}
	if e.Actor.Kind == "" {
		e.Actor.Kind = ActorSystem
		if e.Actor.ID != nil {
			e.Actor.Kind = ActorUser
		}
	}
	k, known := registry[e.Type]
	read := func(s string, typed func([]byte) (State, error)) State {
		if s == "" {
			return nil
		}
		if known {
			if st, err := typed([]byte(s)); err == nil {
				return st
			}
		}
		var raw Raw
		if err := json.Unmarshal([]byte(s), &raw); err != nil || raw == nil {
			return Raw{}
		}
		return raw
	}
	e.Before, e.After = read(row.Before, k.before), read(row.After, k.after)
	return e
}

// Raw is a state read from the log that no declared type fits.
type Raw map[string]any

// Fields lists a raw state's values by name. A text value under the name of
// a declared state's field takes that field's kind (a role's key is still
// a role); any other value is ValueRaw, as JSON decoded it.
func (r Raw) Fields() []Field {
	names := make([]string, 0, len(r))
	for k := range r {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]Field, 0, len(names))
	for _, n := range names {
		f := Field{Name: n, Kind: ValueRaw, Value: r[n]}
		if s, ok := r[n].(string); ok {
			switch k := fields[n]; k {
			case ValueText, ValueEmail, ValueRole, ValueLocale, ValueTemplate, ValueReason, ValueResourceType, ValueJoinedFrom,
				ValueNotifyAdder:
				f.Kind = k
			case ValueStatus:
				f.Kind, f.Value = k, equipe.MemberStatus(s)
			}
		}
		out = append(out, f)
	}
	return out
}
