package spreadsheet

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/team"
)

// MemberColumns are the columns of a members export, in order. Each one's
// header is the message "csv.member.<column>" in the reader's language.
// An import reads the first ones (see ImportColumns) and ignores the
// others, so an export can be edited and imported back.
var MemberColumns = []string{"email", "first_name", "last_name", "role", "title", "resources", "notification_email",
	"external_id", "status", "joined_at", "last_login_at", "created_at"}

// AuditColumns are the columns of an audit log export, in order; each
// one's header is the message "csv.audit.<column>".
var AuditColumns = []string{"at", "type", "event", "actor_type", "actor_id", "actor_name", "subject_type", "subject_id",
	"ip", "before", "after"}

// ResourceSeparator separates the names of a member's resources in a cell.
const ResourceSeparator = " | "

// timeFormat writes times in UTC, as RFC 3339 does.
const timeFormat = "2006-01-02T15:04:05Z"

func cellTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// headers returns the columns' headers in locale.
func headers(cat *i18n.Catalog, locale, prefix string, cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = cat.T(locale, prefix+c, nil)
	}
	return out
}

// WriteMembers writes the export e to out as a CSV file, its headers in
// locale.
func WriteMembers(ctx context.Context, out io.Writer, cat *i18n.Catalog, locale string, e *team.MemberExport) error {
	w, err := NewWriter(out)
	if err != nil {
		return err
	}
	if err := w.Write(headers(cat, locale, "csv.member.", MemberColumns)...); err != nil {
		return err
	}
	err = e.Each(ctx, func(m team.ExportedMember) error {
		return w.Write(m.Email, m.FirstName, m.LastName, m.Role, m.Title, strings.Join(m.Resources, ResourceSeparator),
			m.NotificationEmail, m.ExternalID, string(m.Status), cellTime(m.JoinedAt), cellTime(m.LastLoginAt), cellTime(m.CreatedAt))
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// WriteAudit writes the export e to out as a CSV file, its headers and
// the names of the events in locale. The states before and after are
// written as the API gives them, in JSON.
func WriteAudit(ctx context.Context, out io.Writer, cat *i18n.Catalog, locale string, e *team.AuditExport) error {
	w, err := NewWriter(out)
	if err != nil {
		return err
	}
	if err := w.Write(headers(cat, locale, "csv.audit.", AuditColumns)...); err != nil {
		return err
	}
	err = e.Each(ctx, func(ev event.Event) error {
		row, err := event.Encode(ev)
		if err != nil {
			return err
		}
		label := string(ev.Type)
		if key := "event." + string(ev.Type); cat.Has(key) {
			label = cat.T(locale, key, nil)
		}
		actor := ""
		if ev.Actor.ID != nil {
			actor = ev.Actor.ID.String()
		}
		// A person who reaches the account through its firm or the
		// instance is named for how, as the audit page does: the client's
		// own readers learn no more of the firm's staff.
		name := ev.Actor.Name
		switch ev.Actor.Via {
		case event.ViaFirm:
			name = cat.T(locale, "team.firm_staff_someone", nil)
		case event.ViaInstance:
			name = cat.T(locale, "audit.instance_support", nil)
		}
		return w.Write(cellTime(ev.At), string(ev.Type), label, string(ev.Actor.Kind), actor, name,
			string(ev.Subject.Kind), ev.Subject.ID, ev.IP, row.Before, row.After)
	})
	if err != nil {
		return err
	}
	return w.Flush()
}
