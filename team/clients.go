package team

import (
	"context"
	"encoding/base64"
	"slices"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/work"
)

// CreateClient creates a client account under the firm: the firm's staff
// act in it with their firm role — its administrators
// everywhere, the others where they are assigned. The creator, if not an
// administrator of the firm, is assigned to it. An owner, when given, is
// invited as the client account's administrator. The actor needs
// subaccounts.manage in the firm. A firm creates at most clientsPerHour
// clients an hour (ERATELIMITED client.throttled); the instance's own
// actors (its administrators, its keys) are not limited.
func (s *Service) CreateClient(ctx context.Context, actor Actor, firm equipe.ID, in NewAccount) (equipe.Account, error) {
	m, _, err := s.authorize(ctx, actor, firm, "subaccounts.manage")
	if err != nil {
		return equipe.Account{}, err
	}
	var v equipe.Invalid
	ownerEmail, ownerKey := s.checkNewAccount(&v, &in, false)
	if err := v.Err(); err != nil {
		return equipe.Account{}, err
	}
	var acct equipe.Account
	err = s.do(ctx, actor, func(u *work.Unit) error {
		f, err := u.AccountByID(ctx, firm)
		if err != nil {
			return err
		}
		if f.ParentID != nil {
			// Access reaches one level down: a client's client would be
			// out of the firm's reach.
			return conflict("client.nested", nil)
		}
		if !actor.instance() {
			if err := u.Limit(ctx, "clients:account:"+firm.String(), clientsPerHour, mailWindow, "client.throttled"); err != nil {
				return err
			}
		}
		if acct, err = s.createAccount(ctx, u, in, &firm); err != nil {
			return err
		}
		if actor.User != nil && actor.Key == nil && !isAdmin(m) {
			if err := s.assignStaff(ctx, u, firm, acct.ID, actor.User.ID); err != nil {
				return err
			}
		}
		if ownerKey != "" {
			// The owner's invitation goes out on the firm's behalf: it counts
			// against the firm's invitations.
			if err := u.Limit(ctx, "invite:account:"+firm.String(), invitesPerAccount, mailWindow, "invite.throttled"); err != nil {
				return err
			}
			if _, err := s.owner(ctx, u, actor, acct, in, ownerEmail, ownerKey); err != nil {
				return err
			}
		}
		return nil
	})
	return acct, err
}

// IsFirm reports whether the account is a firm: whether it has client
// accounts. Pages offer an account's clients only then. An account out of
// the actor's reach answers ENOTFOUND.
func (s *Service) IsFirm(ctx context.Context, actor Actor, account equipe.ID) (bool, error) {
	m, _, err := s.actorMember(ctx, actor, account)
	if err != nil {
		return false, err
	}
	if m == nil {
		return false, notFound()
	}
	return s.DB.HasClients(ctx, account)
}

// Client is a client account of a firm with the firm's members assigned to
// it, and what the reader may do with it.
type Client struct {
	Account equipe.Account
	Staff   []equipe.ID
	Actions Actions
}

// Actions on a firm's client account.
const (
	ClientAssignStaff   = "assign_staff"
	ClientUnassignStaff = "unassign_staff"
	ClientDetach        = "detach"
)

// Clients returns the firm's client accounts the actor reaches, with their
// assigned staff: all of them for the firm's administrators, the instance
// and API keys that manage client accounts; those they are assigned to for
// the other members; none for other API keys. Each says what the actor may
// do with it.
func (s *Service) Clients(ctx context.Context, actor Actor, firm equipe.ID) ([]Client, error) {
	out, _, err := s.ClientPage(ctx, actor, firm, equipe.Page{})
	return out, err
}

// ClientPage is a page of Clients (the whole list for the whole page), by
// name, with the cursor of the next page ("" after the last).
func (s *Service) ClientPage(ctx context.Context, actor Actor, firm equipe.ID, p equipe.Page) ([]Client, string, error) {
	m, a, err := s.actorMember(ctx, actor, firm)
	if err != nil {
		return nil, "", err
	}
	if m == nil {
		s.refusedAcross(ctx, actor, firm, "clients")
		return nil, "", notFound()
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	var staff *equipe.ID
	switch {
	case s.reachesEveryClient(actor, m, a):
	case actor.User == nil || actor.Key != nil:
		return nil, "", nil
	default:
		id := actor.User.ID
		staff = &id
	}
	rows, next, err := s.DB.Clients(ctx, firm, staff, p)
	if err != nil {
		return nil, "", err
	}
	manage := s.permission(m, a, "subaccounts.manage")
	out := make([]Client, 0, len(rows))
	for _, r := range rows {
		c := Client{Account: r.Account, Staff: r.Staff}
		detach := manage
		if detach == nil {
			detach = s.detachable(ctx, s.DB.Queries, r.Account)
			if detach != nil && !isRefusal(detach) {
				return nil, "", detach
			}
		}
		c.Actions = Actions{{ClientAssignStaff, allowed(manage)}, {ClientUnassignStaff, allowed(manage)},
			{ClientDetach, allowed(detach)}}
		out = append(out, c)
	}
	return out, next, nil
}

// detachable returns why the client account cannot be detached from its
// firm, or nil: a client without an active administrator of its own would
// be left with nobody to run it ("client.owner_pending" while its owner has
// yet to join, "client.no_admin" otherwise).
func (s *Service) detachable(ctx context.Context, q store.Queries, client equipe.Account) error {
	n, err := q.CountActiveAdmins(ctx, client.ID)
	if err != nil || n > 0 {
		return err
	}
	pending, err := q.CountPendingAdmins(ctx, client.ID)
	if err != nil {
		return err
	}
	named := map[string]any{"client": client.Name}
	if pending > 0 {
		return conflict("client.owner_pending", named)
	}
	return conflict("client.no_admin", named)
}

// reachesEveryClient reports whether the firm's member m reaches every
// client of the firm: administrators (the instance acts as one) do, and so
// do API keys allowed to manage client accounts; a person reaches only the
// clients they are assigned to.
func (s *Service) reachesEveryClient(actor Actor, m *access.Member, a *access.Account) bool {
	return isAdmin(m) || (actor.User == nil && s.Catalogue.Check(m, a, "subaccounts.manage", access.Query{}).Allowed)
}

// client checks that client is a client account of firm that the actor
// reaches, for an actor who needs subaccounts.manage in the firm. A client
// out of the actor's reach answers as one that does not exist. It returns
// the actor's membership of the firm.
func (s *Service) client(ctx context.Context, actor Actor, firm, client equipe.ID) (*access.Member, error) {
	m, a, err := s.authorize(ctx, actor, firm, "subaccounts.manage")
	if err != nil {
		return nil, err
	}
	c, err := s.DB.AccountByID(ctx, client)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND || (err == nil && (c.ParentID == nil || *c.ParentID != firm)) {
		return nil, notFound()
	} else if err != nil {
		return nil, err
	}
	if s.reachesEveryClient(actor, m, a) {
		return m, nil
	}
	if actor.User == nil {
		return nil, notFound()
	}
	assigned, err := s.DB.IsClientStaff(ctx, client, actor.User.ID)
	if err != nil {
		return nil, err
	}
	if !assigned {
		return nil, notFound()
	}
	return m, nil
}

// AssignStaff lets a member of the firm act in one of its client accounts:
// the firm chooses which client companies each of its staff looks after.
// Assigning a member who is assigned already changes and records nothing.
// The member then acts in the client with their firm role: nobody extends
// the reach of a member who holds what they do not (staffRule).
func (s *Service) AssignStaff(ctx context.Context, actor Actor, firm, client, user equipe.ID) error {
	m, err := s.client(ctx, actor, firm, client)
	if err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		if err := s.staffRule(ctx, u, m, firm, user); err != nil {
			return err
		}
		return s.assignStaff(ctx, u, firm, client, user)
	})
}

// staffRule returns the refusal of assigning the firm's member user to a
// client, or of taking it back, by the actor m (their membership of the
// firm), or nil: member.outranks when user holds something m does not
// (outranks), as changing the member's clients on their form
// (ChangeMember) would answer. Someone who is no member of the firm is
// left to assignStaff's own answer.
func (s *Service) staffRule(ctx context.Context, u *work.Unit, m *access.Member, firm, user equipe.ID) error {
	fm, err := u.Member(ctx, firm, user)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	return s.staffOutranks(ctx, u.Tx.Queries, m, fm)
}

// staffOutranks returns member.outranks when the firm's member fm, read
// with q, holds something the actor m does not, or nil.
func (s *Service) staffOutranks(ctx context.Context, q store.Queries, m *access.Member, fm equipe.Member) error {
	return s.outranks(m, fm.Role, func() (*access.Member, error) {
		resources, err := q.MemberResources(ctx, fm.AccountID, fm.UserID)
		if err != nil {
			return nil, err
		}
		return s.compileIn(ctx, q, fm, resources)
	})
}

// StaffRefusals returns the refusal (staffRule) of assigning each member of
// the firm to its clients and taking them off, for the members the actor
// may do neither for: the clients page offers neither for them. The actor
// needs subaccounts.manage in the firm. Like Members, it reads every member
// of the firm: it serves the short list of a firm's staff.
func (s *Service) StaffRefusals(ctx context.Context, actor Actor, firm equipe.ID) (map[equipe.ID]error, error) {
	m, _, err := s.authorize(ctx, actor, firm, "subaccounts.manage")
	if err != nil || isAdmin(m) {
		return nil, err
	}
	ms, err := s.DB.Members(ctx, firm)
	if err != nil {
		return nil, err
	}
	out := map[equipe.ID]error{}
	for _, fm := range ms {
		switch err := s.staffOutranks(ctx, s.DB.Queries, m, fm); {
		case isRefusal(err):
			out[fm.UserID] = err
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

// assignStaff assigns the firm's member user to its client in the unit,
// and records it: the one writer of client.staff_assigned, for AssignStaff
// and for the member forms (AddMember, ChangeMember). The actor's reach of
// the client is checked before, by client.
func (s *Service) assignStaff(ctx context.Context, u *work.Unit, firm, client, user equipe.ID) error {
	if _, err := u.Member(ctx, firm, user); equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return fieldError("user_id", "client.staff_not_member")
	} else if err != nil {
		return err
	}
	if added, err := u.AssignClientStaff(ctx, client, user, u.Now()); err != nil || !added {
		// Assigned already: nothing changes, and nothing is recorded.
		return err
	}
	return u.Record(ctx, event.ClientStaffAssigned.In(firm, client.String(), nil, &event.Staff{UserID: user}))
}

// UnassignStaff takes that back: the inherited access ends on the firm
// member's next request, and the API keys they made in the client are
// revoked (assigning them again does not bring those back). It changes the
// member as surely: refused, as assigning them is, when they hold what the
// actor does not (staffRule).
func (s *Service) UnassignStaff(ctx context.Context, actor Actor, firm, client, user equipe.ID) error {
	m, err := s.client(ctx, actor, firm, client)
	if err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		// Someone not assigned is not found, whoever they are.
		if assigned, err := u.IsClientStaff(ctx, client, user); err != nil {
			return err
		} else if !assigned {
			return notFound()
		}
		if err := s.staffRule(ctx, u, m, firm, user); err != nil {
			return err
		}
		return s.unassignStaff(ctx, u, firm, client, user, "")
	})
}

// unassignStaff is assignStaff's converse: the one writer of
// client.staff_unassigned in a team's use cases, which also revokes the
// keys the member made in the client. reason is empty when a person ends
// the assignment, else why another change ends it (event.ReasonStaffRemoved).
func (s *Service) unassignStaff(ctx context.Context, u *work.Unit, firm, client, user equipe.ID, reason string) error {
	if err := u.UnassignClientStaff(ctx, client, user); err != nil {
		return err
	}
	// The firm's administrators reach every client, assigned or not.
	if fm, err := u.Member(ctx, firm, user); err != nil || fm.Role != equipe.RoleAdmin {
		if err := s.revokeKeysOf(ctx, u, client, user, event.ReasonCreatorRemoved); err != nil {
			return err
		}
	}
	return u.Record(ctx, event.ClientStaffUnassigned.In(firm, client.String(), &event.Staff{UserID: user, Reason: reason}, nil))
}

// reachClients checks, before a member form's unit of work, that the actor
// may assign staff to each of the firm's clients (client answers, the rule
// of AssignStaff), reporting the first refusal under the field "clients".
func (s *Service) reachClients(ctx context.Context, actor Actor, firm equipe.ID, clients []equipe.ID) error {
	for _, c := range clients {
		if _, err := s.client(ctx, actor, firm, c); equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return fieldError("clients", "client.unknown")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// setStaffClients makes user's assignments among the firm's clients
// exactly clients, in the unit: those added are assigned and those taken
// away unassigned, each one event. Clients outside the actor's reach were
// refused before (reachClients); those the actor does not reach and the
// member keeps are left alone, since they are not in before's reach either.
func (s *Service) setStaffClients(ctx context.Context, u *work.Unit, firm, user equipe.ID, before, clients []equipe.ID) error {
	for _, c := range clients {
		if !slices.Contains(before, c) {
			if err := s.assignStaff(ctx, u, firm, c, user); err != nil {
				return err
			}
		}
	}
	for _, c := range before {
		if !slices.Contains(clients, c) {
			if err := s.unassignStaff(ctx, u, firm, c, user, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// StaffClients returns the firm's clients the member user is assigned to,
// among those the actor reaches (Clients): what the member forms tick.
func (s *Service) StaffClients(ctx context.Context, actor Actor, firm, user equipe.ID) ([]equipe.ID, error) {
	clients, err := s.Clients(ctx, actor, firm)
	if err != nil {
		return nil, err
	}
	var out []equipe.ID
	for _, c := range clients {
		if slices.Contains(c.Staff, user) {
			out = append(out, c.Account.ID)
		}
	}
	return out, nil
}

// FirmStaff is a firm's member who reaches one of its clients: with their
// firm role, everywhere as an administrator of the firm, else because they
// are assigned to the client. For a reader who is one of the client's own
// members, who and how many reach the client is said, not who they are:
// UserID is zero and Name empty.
type FirmStaff struct {
	UserID   equipe.ID
	Name     string // their names, else their email
	Role     access.Role
	Assigned bool // false: a firm administrator, who reaches every client
}

// FirmStaff lists who of the firm reaches the client account, and with
// which role: the firm's active administrators, and its active members
// assigned to the client. Apart from the client's own members and read-only:
// the firm decides it. A reader who may view the client's members may read
// it; an account that is nobody's client has none. The client's own members
// (and its API keys) learn the roles, not the people: a firm's staff are
// not named to its clients' users (see staffUnnamed). It returns a page (the
// whole list for the whole page) and the cursor of the next ("" after the
// last).
func (s *Service) FirmStaff(ctx context.Context, actor Actor, client equipe.ID, p equipe.Page) ([]FirmStaff, string, error) {
	list := "firm_staff/" + client.String()
	if _, _, err := s.authorize(ctx, actor, client, "members.view"); err != nil {
		return nil, "", err
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	// Read before anything is answered: a bad cursor is refused even where
	// the list is empty.
	k, err := p.Key(list, 3)
	if err != nil {
		return nil, "", err
	}
	anonymous, err := s.staffUnnamed(ctx, actor, client)
	if err != nil {
		return nil, "", err
	}
	c, err := s.DB.AccountByID(ctx, client)
	if err != nil {
		return nil, "", err
	}
	if c.ParentID == nil {
		return []FirmStaff{}, "", nil
	}
	firm := *c.ParentID
	// By name, then role; for a reader who may not know who they are, by
	// role, and the cursor holds the last one's ID sealed, so that paging
	// tells nothing more than a page does.
	order := store.StaffByName
	if anonymous {
		order = store.StaffByRole
	}
	var after []any
	if k != nil {
		if anonymous {
			sealed, err := base64.RawURLEncoding.DecodeString(k[1])
			if err != nil {
				return nil, "", equipe.ErrCursor()
			}
			plain, _, err := s.Secrets.Open(sealed, k[2], list)
			if err != nil {
				return nil, "", equipe.ErrCursor()
			}
			k = []string{k[0], string(plain)}
		}
		id, err := equipe.CursorID(k[len(k)-1])
		if err != nil {
			return nil, "", err
		}
		for _, part := range k[:len(k)-1] {
			after = append(after, part)
		}
		after = append(after, id)
	}
	want := p.Limit + 1
	if p.Whole() {
		want = 0
	}
	rows, err := s.DB.FirmStaff(ctx, firm, client, order, after, want)
	if err != nil {
		return nil, "", err
	}
	rows, next := equipe.Cut(rows, p, list, func(r store.StaffRow) []string {
		if anonymous {
			sealed, keyID := s.Secrets.Seal([]byte(r.UserID.String()), list)
			return []string{r.Role, base64.RawURLEncoding.EncodeToString(sealed), keyID}
		}
		return []string{r.Name, r.Role, r.UserID.String()}
	})
	out := make([]FirmStaff, 0, len(rows))
	for _, r := range rows {
		role, _, err := s.resolveRole(ctx, s.DB.Queries, firm, r.Role)
		if err != nil {
			return nil, "", err
		}
		f := FirmStaff{UserID: r.UserID, Name: r.Name, Role: role, Assigned: r.Assigned}
		if anonymous {
			f.UserID, f.Name = equipe.ID{}, ""
		}
		out = append(out, f)
	}
	return out, next, nil
}

// ownMemberOf reports whether the actor acts in the account in its own
// right rather than through its firm: one of its members, or one of its API
// keys.
func (s *Service) ownMemberOf(ctx context.Context, actor Actor, account equipe.ID) (bool, error) {
	switch {
	case actor.Key != nil:
		return actor.Key.AccountID != nil && *actor.Key.AccountID == account, nil
	case actor.User == nil:
		return false, nil
	}
	_, err := s.DB.Member(ctx, account, actor.User.ID)
	switch equipe.ErrorCode(err) {
	case "":
		return true, nil
	case equipe.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// DetachClient makes the client account independent of the firm: every
// access inherited from the firm ends on the next request, API keys the
// firm's staff made in the client included; the client's own members and
// their keys stay. A client without an active administrator of its own cannot
// be detached (see detachable): nobody could reach it after.
func (s *Service) DetachClient(ctx context.Context, actor Actor, firm, client equipe.ID) error {
	if _, err := s.client(ctx, actor, firm, client); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error { return s.detach(ctx, u, firm, client) })
}

// detach makes the client account independent of its firm, in u: once it
// has an active administrator of its own, every access inherited from the
// firm ends, and with it the keys the firm's staff made there; the
// detachment is recorded in both accounts' logs.
func (s *Service) detach(ctx context.Context, u *work.Unit, firm, client equipe.ID) error {
	if _, err := u.LockActiveAdmins(ctx, client); err != nil {
		return err
	}
	c, err := u.AccountByID(ctx, client)
	if err != nil {
		return err
	}
	if err := s.detachable(ctx, u.Tx.Queries, c); err != nil {
		return err
	}
	if err := u.SetAccountParent(ctx, client, nil); err != nil {
		return err
	}
	if err := u.UnassignClientStaffOf(ctx, client); err != nil {
		return err
	}
	// Keys made in the client by the firm's staff, acting through the
	// firm, were part of the firm's access: they end with it.
	keys, _, err := u.APIKeys(ctx, &client, equipe.Page{})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !k.RevokedAt.IsZero() || k.CreatedBy == nil {
			continue
		}
		if _, err := u.Member(ctx, client, *k.CreatedBy); err == nil {
			continue
		} else if equipe.ErrorCode(err) != equipe.ENOTFOUND {
			return err
		}
		if err := s.revokeKey(ctx, u, &client, k.ID, event.ReasonClientDetached); err != nil {
			return err
		}
	}
	gone := &event.Detachment{ParentID: firm}
	if err := u.Record(ctx, event.ClientDetached.In(client, client.String(), gone, nil)); err != nil {
		return err
	}
	return u.Record(ctx, event.ClientDetached.In(firm, client.String(), gone, nil))
}

// AccountEntry is one account of a person's account list (the account
// switcher): a membership, or a client account reached through a firm.
type AccountEntry struct {
	Account equipe.Account
	Member  *equipe.Member // nil: reached through the firm
	Firm    *equipe.ID     // the firm, for a client account reached through it
}

// Enterable reports whether the person may enter the account (make it
// their current one): joined and not suspended, or a client reached through
// the firm.
func (e AccountEntry) Enterable() bool {
	return e.Member == nil || e.Member.Status == equipe.MemberActive
}

// MyAccounts returns a page of the accounts the user reaches (the whole
// list for the whole page): their memberships (any status, so that pending
// invitations show), then the client accounts of their firms, each part by
// name; and the cursor of the next page ("" after the last).
func (s *Service) MyAccounts(ctx context.Context, user equipe.ID, p equipe.Page) ([]AccountEntry, string, error) {
	const list = "my_accounts"
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	k, err := p.Key(list, 3)
	if err != nil {
		return nil, "", err
	}
	// The key: "member" or "client" (the part), the account's name and ID.
	part, after := "member", []any(nil)
	if k != nil {
		id, err := equipe.CursorID(k[2])
		if err != nil || (k[0] != "member" && k[0] != "client") {
			return nil, "", equipe.ErrCursor()
		}
		part, after = k[0], []any{k[1], id}
	}
	want := p.Limit + 1 // one more tells whether a page follows
	if p.Whole() {
		want = 0
	}
	var out []AccountEntry
	if part == "member" {
		mas, err := s.DB.AccountsOfUserAfter(ctx, user, after, want)
		if err != nil {
			return nil, "", err
		}
		for _, ma := range mas {
			m := ma.Member
			out = append(out, AccountEntry{Account: ma.Account, Member: &m})
		}
		after = nil
	}
	if want == 0 || len(out) < want {
		n := 0
		if want > 0 {
			n = want - len(out)
		}
		clients, err := s.DB.StaffClientsAfter(ctx, user, after, n)
		if err != nil {
			return nil, "", err
		}
		for _, c := range clients {
			out = append(out, AccountEntry{Account: c, Firm: c.ParentID})
		}
	}
	out, next := equipe.Cut(out, p, list, func(e AccountEntry) []string {
		part := "client"
		if e.Member != nil {
			part = "member"
		}
		return []string{part, e.Account.Name, e.Account.ID.String()}
	})
	return out, next, nil
}

// SwitchAccount remembers account as the current account of the session;
// the user must reach it (a membership or a firm's client). nil forgets it.
func (s *Service) SwitchAccount(ctx context.Context, user, session equipe.ID, account *equipe.ID) error {
	if account != nil {
		entries, _, err := s.MyAccounts(ctx, user, equipe.Page{})
		if err != nil {
			return err
		}
		found := false
		for _, e := range entries {
			found = found || (e.Account.ID == *account && e.Enterable())
		}
		if !found {
			return notFound()
		}
	}
	return s.Work.Do(ctx, event.ByUser(user), equipe.Origin{}, func(u *work.Unit) error {
		if err := u.SetSessionAccount(ctx, session, account); err != nil {
			return err
		}
		if account == nil {
			return nil
		}
		// Switching to an account is logging in to it: the team page shows it.
		return u.SetMemberLogin(ctx, *account, user, u.Now())
	})
}
