package team

import (
	"context"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
)

// ExportedMember is one member as an export of the team writes them, under
// the names the account shows them.
type ExportedMember struct {
	Email             string
	FirstName         string
	LastName          string
	Role              string
	Status            equipe.MemberStatus
	Title             string
	NotificationEmail string
	ExternalID        string
	// Resources are the names of the resources assigned to the member.
	Resources   []string
	CreatedAt   time.Time
	JoinedAt    time.Time // zero: not joined
	LastLoginAt time.Time // zero: never
}

// MemberExport is an export of an account's members that may start: the
// actor's right to it and the filter are checked. Each then reads it.
type MemberExport struct {
	s         *Service
	f         MemberFilter
	resources map[equipe.ID]string
}

// exportPage is how many rows an export reads at a time: the largest page
// of the list, so that an export holds one page in memory at most.
const exportPage = MaxMemberPage

// exportAuditPage is how many events an export of the audit log reads at a
// time.
const exportAuditPage = 500

// ExportMembers starts an export of the members f selects (its cursor and
// limit ignored), in f's order. The actor needs members.export. Returns
// EINVALID for a filter that selects nothing sensible (the team page's
// rules), ENOTFOUND or EFORBIDDEN for an actor without the right.
func (s *Service) ExportMembers(ctx context.Context, actor Actor, f MemberFilter) (*MemberExport, error) {
	if _, _, err := s.authorize(ctx, actor, f.Account, "members.export"); err != nil {
		return nil, err
	}
	if err := s.checkMemberFilter(ctx, actor, f, false); err != nil {
		return nil, err
	}
	rs, err := s.DB.Resources(ctx, f.Account)
	if err != nil {
		return nil, err
	}
	names := make(map[equipe.ID]string, len(rs))
	for _, r := range rs {
		names[r.ID] = r.Name
	}
	f.After, f.Limit = "", exportPage
	return &MemberExport{s: s, f: f, resources: names}, nil
}

// Each calls fn with every member of the export, reading them a page at a
// time: the memory it holds does not grow with the account. It stops at
// the first error, fn's or the database's.
func (e *MemberExport) Each(ctx context.Context, fn func(ExportedMember) error) error {
	f := e.f.store()
	for {
		rows, next, err := e.s.DB.ListMembers(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			m := ExportedMember{Email: r.Email, FirstName: r.FirstName, LastName: r.LastName, Role: r.Member.Role,
				Status: r.Member.Status, Title: r.Member.Title, NotificationEmail: r.Member.NotificationEmail,
				ExternalID: r.Member.ExternalID,
				CreatedAt:  r.Member.CreatedAt, JoinedAt: r.Member.JoinedAt, LastLoginAt: r.LastLoginAt}
			for _, id := range r.Resources {
				if n, ok := e.resources[id]; ok {
					m.Resources = append(m.Resources, n)
				}
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}

// AuditExport is an export of an account's audit log that may start: the
// actor's right to it and the filter are checked. Each then reads it.
type AuditExport struct {
	s       *Service
	account equipe.ID
	f       AuditFilter
	before  *equipe.ID // the export starts after this event
	reader  *logReader
	none    bool // the filter's actor is someone the reader may not know
}

// ExportAudit starts an export of the account's events that f selects
// (its limit ignored; its cursor, when set, starts the export after it),
// newest first, people shown as AuditPage shows them. The actor needs
// audit.view. Returns EINVALID for a filter value that can select nothing,
// as AuditPage does.
func (s *Service) ExportAudit(ctx context.Context, actor Actor, account equipe.ID, f AuditFilter) (*AuditExport, error) {
	lr, err := s.logReader(ctx, actor, account)
	if err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	before, err := f.Page.KeyID(auditList(account))
	if err != nil {
		return nil, err
	}
	none, err := lr.hidesActor(ctx, f)
	if err != nil {
		return nil, err
	}
	return &AuditExport{s: s, account: account, f: f, before: before, reader: lr, none: none}, nil
}

// Each calls fn with every event of the export, newest first, a page at
// a time. It stops at the first error, fn's or the database's.
func (e *AuditExport) Each(ctx context.Context, fn func(event.Event) error) error {
	if e.none {
		return nil
	}
	f := store.AuditFilter{AccountID: &e.account, ActorID: e.f.ActorID, Action: string(e.f.Type),
		TargetID: e.f.Subject, Before: e.before, Limit: exportAuditPage}
	for {
		rows, err := e.s.DB.AuditEvents(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			ev, err := e.reader.seen(ctx, event.Decode(r))
			if err != nil {
				return err
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
		if len(rows) < f.Limit {
			return nil
		}
		last := rows[len(rows)-1].ID
		f.Before = &last
	}
}
