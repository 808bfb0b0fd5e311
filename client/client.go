// Package client is the Go client of equipe's API, for a vendor's backend:
// typed calls for members, roles, invitations and checks, the change stream,
// and a Checker that decides checks in the vendor's process, in well under a
// microsecond, kept current by the change stream.
//
// Every call takes a context and authenticates with an API key (an account
// key or an instance key). An error the API answers is a *Problem, carrying
// the RFC 9457 problem details: its Code is the stable error code (for
// example "member.last_admin"), Errors the per-field problems.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// Client calls an equipe instance's API with an API key. It is safe for
// concurrent use.
type Client struct {
	base *url.URL
	key  string
	http *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc (its transport,
// proxies, TLS settings and timeout). The default is a client with a 30 s
// timeout; the change stream uses hc too, so hc's Timeout, when set, must
// not cut long-lived streams: give one without (the stream watches for
// heartbeats itself) or leave the default, which the stream overrides.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// New returns a client of the instance at baseURL (its public URL, such as
// "https://equipe.example.com") that authenticates with the API key.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want http(s)://host", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("client: no API key")
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Problem is an error the API answered: an RFC 9457 problem document.
type Problem struct {
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Status     int            `json:"status"`
	Detail     string         `json:"detail"`
	Code       string         `json:"code"`
	Errors     []FieldProblem `json:"errors"`
	RetryAfter int            `json:"retry_after"`
}

// FieldProblem is a problem with one field of a request.
type FieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (p *Problem) Error() string {
	return fmt.Sprintf("equipe: %d %s: %s", p.Status, p.Code, p.Detail)
}

// IsProblem reports whether err is a Problem with the code.
func IsProblem(err error, code string) bool {
	var p *Problem
	return errors.As(err, &p) && p.Code == code
}

// do sends a request and decodes a JSON answer into out (when not nil). An
// answer of 4xx or 5xx is returned as a *Problem.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	return c.send(ctx, method, path, query, body, out, true)
}

// send is do, with the API key when withKey (a public route refuses keys).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body, out any, withKey bool) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if withKey {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 400 {
		return readProblem(res)
	}
	if out == nil || res.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, res.Body)
		return nil
	}
	return json.NewDecoder(res.Body).Decode(out)
}

func readProblem(res *http.Response) error {
	p := &Problem{Status: res.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err := json.Unmarshal(b, p); err != nil || p.Code == "" {
		p.Code, p.Detail = "http."+strconv.Itoa(res.StatusCode), strings.TrimSpace(string(b))
	}
	p.Status = res.StatusCode
	return p
}

func accountPath(account equipe.ID, rest string) string {
	return "/api/v1/accounts/" + account.String() + rest
}

// Override changes one permission of a member on top of their role.
type Override struct {
	Allow bool   `json:"allow"`
	Scope string `json:"scope,omitempty"` // for a scoped permission: owned, owned_or_unassigned or all
}

// Member is a member of an account.
type Member struct {
	UserID          equipe.ID           `json:"user_id"`
	Email           string              `json:"email"`
	FirstName       string              `json:"first_name"`
	LastName        string              `json:"last_name"`
	Role            string              `json:"role"`
	Status          string              `json:"status"` // created, invited, active, suspended
	Title           string              `json:"title"`
	Resources       []equipe.ID         `json:"resources"`
	Overrides       map[string]Override `json:"overrides"`
	InvitationsSent int                 `json:"invitations_sent"`
	LastInvitedAt   *time.Time          `json:"last_invited_at"`
	LastLoginAt     *time.Time          `json:"last_login_at"`
	JoinedAt        *time.Time          `json:"joined_at"`
	CreatedAt       time.Time           `json:"created_at"`
}

// MemberList selects members: all fields are optional.
type MemberList struct {
	Status string // created, invited, active or suspended
	Role   string
	Search string // in names and emails
	Cursor string // NextCursor of the previous page
	Limit  int    // page size (the API's default when 0)
}

// Page asks for a page of a list: the items after Cursor (the NextCursor
// of the previous page; "" for the first), Limit at most (1 to 200; the
// API's default, 50, when 0).
type Page struct {
	Cursor string
	Limit  int
}

// query adds the page to a request's query.
func (p Page) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// List is a page of a list: its items, and the cursor of the next page,
// nil on the last.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// listPage reads a page of the list at path.
func listPage[T any](ctx context.Context, c *Client, path string, q url.Values, p Page) (List[T], error) {
	var out List[T]
	err := c.do(ctx, http.MethodGet, path, p.query(q), nil, &out)
	return out, err
}

// all walks a list page after page, from the first, as an iterator; it
// stops at the first error, which it yields.
func all[T any](ctx context.Context, limit int, page func(context.Context, Page) (List[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		p := Page{Limit: limit}
		for {
			l, err := page(ctx, p)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range l.Items {
				if !yield(it, nil) {
					return
				}
			}
			if l.NextCursor == nil {
				return
			}
			p.Cursor = *l.NextCursor
		}
	}
}

// MemberPage is a page of members.
type MemberPage = List[Member]

// ListMembers returns a page of the account's members.
func (c *Client) ListMembers(ctx context.Context, account equipe.ID, l MemberList) (MemberPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": l.Status, "role": l.Role, "q": l.Search} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return listPage[Member](ctx, c, accountPath(account, "/members"), q, Page{Cursor: l.Cursor, Limit: l.Limit})
}

// Members walks every member l selects (its cursor ignored), l.Limit at a
// time, page after page:
//
//	for m, err := range c.Members(ctx, account, client.MemberList{Status: "active", Limit: 200}) {
//		if err != nil {
//			return err
//		}
//		…
//	}
func (c *Client) Members(ctx context.Context, account equipe.ID, l MemberList) iter.Seq2[Member, error] {
	return all(ctx, l.Limit, func(ctx context.Context, p Page) (List[Member], error) {
		l.Cursor = p.Cursor
		return c.ListMembers(ctx, account, l)
	})
}

// GetMember returns a member of the account.
func (c *Client) GetMember(ctx context.Context, account, user equipe.ID) (Member, error) {
	var m Member
	err := c.do(ctx, http.MethodGet, accountPath(account, "/members/"+user.String()), nil, nil, &m)
	return m, err
}

// NewMember is a member to add.
type NewMember struct {
	Email          string              `json:"email"`
	FirstName      string              `json:"first_name"`
	LastName       string              `json:"last_name"`
	Role           string              `json:"role"`
	Title          string              `json:"title,omitempty"`
	Overrides      map[string]Override `json:"overrides,omitempty"`
	Resources      []equipe.ID         `json:"resources,omitempty"`
	Locale         string              `json:"locale,omitempty"`
	SendInvitation bool                `json:"send_invitation,omitempty"`
}

// AddMember adds a member to the account.
func (c *Client) AddMember(ctx context.Context, account equipe.ID, m NewMember) (Member, error) {
	var out Member
	err := c.do(ctx, http.MethodPost, accountPath(account, "/members"), nil, m, &out)
	return out, err
}

// MemberChange changes a member: nil fields are left as they are.
type MemberChange struct {
	Role      *string              `json:"role,omitempty"`
	Overrides *map[string]Override `json:"overrides,omitempty"`
	Resources *[]equipe.ID         `json:"resources,omitempty"`
	Title     *string              `json:"title,omitempty"`
}

// UpdateMember changes a member's role, overrides, resources or title.
func (c *Client) UpdateMember(ctx context.Context, account, user equipe.ID, ch MemberChange) (Member, error) {
	var out Member
	err := c.do(ctx, http.MethodPatch, accountPath(account, "/members/"+user.String()), nil, ch, &out)
	return out, err
}

// SuspendMember suspends a member: every check of theirs is denied.
func (c *Client) SuspendMember(ctx context.Context, account, user equipe.ID) (Member, error) {
	var out Member
	err := c.do(ctx, http.MethodPost, accountPath(account, "/members/"+user.String()+"/suspend"), nil, nil, &out)
	return out, err
}

// ReactivateMember lifts a member's suspension.
func (c *Client) ReactivateMember(ctx context.Context, account, user equipe.ID) (Member, error) {
	var out Member
	err := c.do(ctx, http.MethodPost, accountPath(account, "/members/"+user.String()+"/reactivate"), nil, nil, &out)
	return out, err
}

// RemoveMember takes a member out of the account.
func (c *Client) RemoveMember(ctx context.Context, account, user equipe.ID) error {
	return c.do(ctx, http.MethodDelete, accountPath(account, "/members/"+user.String()), nil, nil, nil)
}

// SendInvitation sends a member who has not joined their invitation (or
// activation) email; called again, it sends it again and the previous link
// stops working.
func (c *Client) SendInvitation(ctx context.Context, account, user equipe.ID) (Member, error) {
	var out Member
	err := c.do(ctx, http.MethodPost, accountPath(account, "/members/"+user.String()+"/invitation"), nil, nil, &out)
	return out, err
}

// ResendInvitation is SendInvitation for a member already invited.
func (c *Client) ResendInvitation(ctx context.Context, account, user equipe.ID) (Member, error) {
	return c.SendInvitation(ctx, account, user)
}

// Role is a built-in or custom role of an account.
type Role struct {
	Key        string `json:"key"`
	BuiltIn    bool   `json:"built_in"`
	Restricted bool   `json:"restricted"`
	// Permissions maps each permission the role grants to true (unscoped)
	// or its scope.
	Permissions map[string]any `json:"permissions"`
	Members     *int           `json:"members"`
}

// ListRoles returns a page of the account's roles: the built-in roles,
// then the custom roles by key.
func (c *Client) ListRoles(ctx context.Context, account equipe.ID, p Page) (List[Role], error) {
	return listPage[Role](ctx, c, accountPath(account, "/roles"), nil, p)
}

// Roles walks every role of the account, page after page (see Members).
func (c *Client) Roles(ctx context.Context, account equipe.ID) iter.Seq2[Role, error] {
	return all(ctx, 0, func(ctx context.Context, p Page) (List[Role], error) { return c.ListRoles(ctx, account, p) })
}

// CheckRequest asks whether a user may use a permission in an account,
// optionally on a resource and on a record of an owner.
type CheckRequest struct {
	User       equipe.ID
	Account    equipe.ID
	Permission string
	Query      access.Query
}

func (r CheckRequest) body() map[string]any {
	b := map[string]any{"user_id": r.User, "account_id": r.Account, "permission": r.Permission}
	if r.Query.HasResource {
		b["resource_id"] = r.Query.Resource
	}
	switch {
	case r.Query.OwnerKnown:
		b["owner_id"] = r.Query.Owner
	case r.Query.Unowned:
		b["owner_id"] = nil
	}
	return b
}

type decisionJSON struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// Check asks the service (POST /api/v1/check).
func (c *Client) Check(ctx context.Context, r CheckRequest) (access.Decision, error) {
	if r.Query.OwnerKnown && r.Query.Unowned {
		// The JSON request cannot say both; the answer is known.
		return access.Decision{Reason: access.DeniedInvalidQuery}, nil
	}
	var d decisionJSON
	err := c.do(ctx, http.MethodPost, "/api/v1/check", nil, r.body(), &d)
	return access.Decision{Allowed: d.Allowed, Reason: access.Reason(d.Reason)}, err
}

// CheckBatch asks up to 1,000 checks at once (POST /api/v1/check/batch);
// the decisions are in the order of the requests.
func (c *Client) CheckBatch(ctx context.Context, rs []CheckRequest) ([]access.Decision, error) {
	body := map[string]any{"checks": func() []map[string]any {
		out := make([]map[string]any, len(rs))
		for i, r := range rs {
			out[i] = r.body()
		}
		return out
	}()}
	var res struct {
		Results []decisionJSON `json:"results"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/check/batch", nil, body, &res); err != nil {
		return nil, err
	}
	out := make([]access.Decision, len(res.Results))
	for i, d := range res.Results {
		out[i] = access.Decision{Allowed: d.Allowed, Reason: access.Reason(d.Reason)}
	}
	return out, nil
}

// Catalogue returns the instance's permissions as a catalogue to compile
// and check members with (access.ForChecks).
func (c *Client) Catalogue(ctx context.Context) (*access.Catalogue, error) {
	var v struct {
		Permissions []struct {
			Key          string   `json:"key"`
			Scopes       []string `json:"scopes"`
			DefaultScope string   `json:"default_scope"`
		} `json:"permissions"`
	}
	if err := c.send(ctx, http.MethodGet, "/api/v1/catalogue", nil, nil, &v, false); err != nil {
		return nil, err
	}
	ps := make([]access.Permission, len(v.Permissions))
	for i, p := range v.Permissions {
		ps[i].Key = p.Key
		for _, s := range p.Scopes {
			sc, ok := access.ParseScope(s)
			if !ok {
				return nil, fmt.Errorf("client: permission %s: unknown scope %q", p.Key, s)
			}
			ps[i].Scopes = append(ps[i].Scopes, sc)
		}
		if p.DefaultScope != "" {
			sc, ok := access.ParseScope(p.DefaultScope)
			if !ok {
				return nil, fmt.Errorf("client: permission %s: unknown scope %q", p.Key, p.DefaultScope)
			}
			ps[i].DefaultScope = sc
		}
	}
	return access.ForChecks(ps)
}

// AccessState is what deciding checks in an account takes (GET
// /api/v1/accounts/{account}/access-state).
type AccessState struct {
	Cursor    string                          `json:"cursor"`
	AccountID equipe.ID                       `json:"account_id"`
	ParentID  *equipe.ID                      `json:"parent_id"`
	Resources []equipe.ID                     `json:"resources"`
	Archived  []equipe.ID                     `json:"archived"`
	Members   map[equipe.ID]*access.InputJSON `json:"members"`
}

// AccessState returns the account's resources and the access inputs of up
// to 100 users.
func (c *Client) AccessState(ctx context.Context, account equipe.ID, users ...equipe.ID) (AccessState, error) {
	q := url.Values{}
	for _, u := range users {
		q.Add("user", u.String())
	}
	var st AccessState
	err := c.do(ctx, http.MethodGet, accountPath(account, "/access-state"), q, nil, &st)
	return st, err
}

// Event is a change event in its public form (docs/events.md).
type Event struct {
	ID        equipe.ID       `json:"id"`
	Type      string          `json:"type"`
	AccountID *equipe.ID      `json:"account_id"`
	Actor     EventActor      `json:"actor"`
	Subject   EventSubject    `json:"subject"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	At        time.Time       `json:"at"`
}

// EventActor is who made a change.
type EventActor struct {
	Type string     `json:"type"` // user, api_key, instance_key, system
	ID   *equipe.ID `json:"id"`
	Name string     `json:"name"`
}

// EventSubject is what a change is about.
type EventSubject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ChangesPage is a page of the change stream.
type ChangesPage struct {
	Data       []Event `json:"data"`
	NextCursor string  `json:"next_cursor"`
}

// Changes returns the events that follow the cursor after ("" for the
// oldest kept, "now" for the end), of the kinds types (all when none), at
// most limit (the API's default when 0).
func (c *Client) Changes(ctx context.Context, after string, limit int, types ...string) (ChangesPage, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if len(types) > 0 {
		q.Set("types", strings.Join(types, ","))
	}
	var p ChangesPage
	err := c.do(ctx, http.MethodGet, "/api/v1/changes", q, nil, &p)
	return p, err
}
