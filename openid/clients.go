package openid

import (
	"context"
	"net/http"
	"sync"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// clientCache holds the registered clients that refresh grants authenticate,
// so that a refresh reads no client row: about a twentieth of a refresh's
// CPU (docs/performance.md, "OpenID Connect refresh grant").
//
// A copy is used only when the refresh's own read of its token and grant
// (store.RefreshGrant, which every refresh makes anyway) says, by the
// client's secret hash and last change, that it is the client as stored
// now; otherwise the client is read again. So a rotated secret or any other
// change takes effect at the next request, in every process, on both
// engines and whoever made the change (the pages, the API, or `equipe
// clients` from another process on SQLite, which no change notification
// reaches), with no invalidation to get wrong. A deleted client's grants
// went with it (the foreign keys cascade): its refresh tokens are unknown.
// Every other request of the provider reads the client from the store.
type clientCache struct {
	mu sync.Mutex
	m  map[equipe.ID]equipe.OIDCClient
}

// maxClients bounds the copies held; past it, one goes for each one kept.
const maxClients = 1024

// get returns the client id as stamp describes it: the copy held when it
// matches, else the client read from db (and kept).
func (c *clientCache) get(ctx context.Context, db *store.DB, id equipe.ID, stamp store.ClientStamp) (equipe.OIDCClient, error) {
	c.mu.Lock()
	cl, ok := c.m[id]
	c.mu.Unlock()
	if ok && stamp.Matches(cl) {
		return cl, nil
	}
	cl, err := db.OIDCClient(ctx, id)
	if err != nil {
		return cl, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[equipe.ID]equipe.OIDCClient)
	}
	if _, ok := c.m[id]; !ok && len(c.m) >= maxClients {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[id] = cl
	return cl, nil
}

// tokenMemo is what one token request has read, kept in its context: op asks
// for the client twice (its secret, then the grant), and a refresh grant's
// token is read before op asks for the client, so that the client's stamp
// comes with it.
type tokenMemo struct {
	client  equipe.OIDCClient
	refresh *refreshRead
}

type tokenMemoKey struct{}

// refreshRead is a refresh token's read (store.RefreshGrant).
type refreshRead struct {
	hash  []byte
	token store.RefreshToken
	grant store.Grant
	stamp store.ClientStamp
	err   error
}

// tokenRequest returns r with a memo for a request to the token endpoint;
// a refresh grant's token is read there, once.
func (p *Provider) tokenRequest(r *http.Request) *http.Request {
	memo := new(tokenMemo)
	// op parses the form again from what this keeps (Request.ParseForm
	// does its work once).
	if r.PostFormValue("grant_type") == "refresh_token" {
		if tok := r.PostFormValue("refresh_token"); tok != "" {
			rr := &refreshRead{hash: digest(tok)}
			rr.token, rr.grant, rr.stamp, rr.err = p.Work.DB.RefreshGrant(r.Context(), rr.hash)
			memo.refresh = rr
		}
	}
	return r.WithContext(context.WithValue(r.Context(), tokenMemoKey{}, memo))
}

// refreshGrant returns a refresh token's read: the one its request made
// before op ran, or a new one.
func (p *Provider) refreshGrant(ctx context.Context, hash []byte) (store.RefreshToken, store.Grant, error) {
	if memo, _ := ctx.Value(tokenMemoKey{}).(*tokenMemo); memo != nil && memo.refresh != nil &&
		string(memo.refresh.hash) == string(hash) {
		return memo.refresh.token, memo.refresh.grant, memo.refresh.err
	}
	rt, g, _, err := p.Work.DB.RefreshGrant(ctx, hash)
	return rt, g, err
}

// oidcClient returns a registered client, or ENOTFOUND. A token request
// reads it once (tokenMemo); a refresh grant's client comes from the cache
// when its stamp says it is current.
func (p *Provider) oidcClient(ctx context.Context, id equipe.ID) (equipe.OIDCClient, error) {
	memo, _ := ctx.Value(tokenMemoKey{}).(*tokenMemo)
	if memo == nil {
		return p.Work.DB.OIDCClient(ctx, id)
	}
	if memo.client.ID == id {
		return memo.client, nil
	}
	var c equipe.OIDCClient
	var err error
	if rr := memo.refresh; rr != nil && rr.err == nil && rr.grant.ClientID == id {
		c, err = p.clients.get(ctx, p.Work.DB, id, rr.stamp)
	} else {
		c, err = p.Work.DB.OIDCClient(ctx, id)
	}
	if err == nil {
		memo.client = c
	}
	return c, err
}
