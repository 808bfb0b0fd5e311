package openid

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/outbox"
	"github.com/equipe-dev/equipe/store"
	"github.com/equipe-dev/equipe/webhook"
)

// BackchannelLogoutEvent is the member of a logout token's events claim
// that makes it one (Back-Channel Logout 1.0 section 2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutTokenType is the typ header of a logout token (section 2.4).
const LogoutTokenType = "logout+jwt"

// LogoutTokenLifetime is how long a logout token is valid once sent.
const LogoutTokenLifetime = 2 * time.Minute

// Logouts delivers the back-channel logout notices queued by the changes
// that end sessions and grants (store.LogOutEndedSessions,
// store.Writes.EndGrantsOf, store.DB.DeleteStaleSessions): to each, a logout
// token signed with the provider's current key, POSTed to the client's
// back-channel logout URI. It is the loop of package outbox, as the
// webhook worker is: a notice that fails is tried again on
// webhook.Schedule; an answer 4xx (the client refused the token) or a URI
// gone abandons it. Requests go through the webhooks' HTTP client, with
// its checks of where they may go. Any number of workers may run on one
// database: each claims notices under a lease.
//
// Set the fields before the first call to Run, RunOnce or Wake.
type Logouts struct {
	DB     *store.DB
	Keys   *Keys
	Issuer string       // the provider's issuer, iss of the tokens
	Client *http.Client // default webhook.Rules{}.Client
	Log    *slog.Logger
	Now    func() time.Time // default time.Now

	Schedule []time.Duration // default webhook.Schedule
	Poll     time.Duration   // default 1 s
	Batch    int             // default 50
	Lease    time.Duration   // default 5 min
	// OnRound, when set, is called after each round of Run.
	OnRound func()

	once sync.Once
	loop outbox.Worker[store.Logout]
}

func (l *Logouts) setup() {
	l.once.Do(func() {
		if l.Client == nil {
			l.Client = webhook.Rules{}.Client(webhook.DefaultTimeout, nil)
		}
		if l.Log == nil {
			l.Log = slog.New(slog.DiscardHandler)
		}
		if l.Now == nil {
			l.Now = time.Now
		}
		if l.Schedule == nil {
			l.Schedule = webhook.Schedule
		}
		if l.Batch <= 0 {
			l.Batch = 50
		}
		l.loop = outbox.Worker[store.Logout]{Queue: logoutQueue{l}, Name: "back-channel logout", Log: l.Log, Now: l.Now,
			Schedule: l.Schedule, Batch: l.Batch, Lease: l.Lease, Poll: l.Poll, OnRound: l.OnRound}
	})
}

// Wake asks the worker to look for due notices now. It never blocks.
func (l *Logouts) Wake() {
	l.setup()
	l.loop.Wake()
}

// Run delivers until ctx is done. Database errors are logged and retried
// at the next poll.
func (l *Logouts) Run(ctx context.Context) error {
	l.setup()
	l.DB.OnDeliveriesQueued(l.Wake)
	return l.loop.Run(ctx)
}

// RunOnce claims the notices due now (up to Batch), sends them and records
// the outcomes. It returns how many it claimed.
func (l *Logouts) RunOnce(ctx context.Context) (int, error) {
	l.setup()
	return l.loop.RunOnce(ctx)
}

// logoutQueue is the logout notices as the outbox loop sees them.
type logoutQueue struct{ l *Logouts }

func (q logoutQueue) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string, busy []string) ([]store.Logout, error) {
	return q.l.DB.ClaimLogouts(ctx, now, lease, limit, claim, equipe.ParseIDs(busy)...)
}

// Key is the notice's client: one whose back-channel URI answers late holds
// up its own notices only.
func (q logoutQueue) Key(n store.Logout) string { return n.ClientID.String() }

// Attempt is the notice's count: its claim counted this attempt.
func (q logoutQueue) Attempt(n store.Logout) int { return n.Attempts }

func (q logoutQueue) Attrs(n store.Logout) []any { return []any{"client_id", n.ClientID.String()} }

func (q logoutQueue) Send(ctx context.Context, n store.Logout, now time.Time) outbox.Result {
	return outbox.Result{Err: q.l.send(ctx, n, now)}
}

func (q logoutQueue) Record(ctx context.Context, claim string, outcomes []outbox.Outcome[store.Logout]) error {
	rows := make([]store.LogoutOutcome, len(outcomes))
	for i, o := range outcomes {
		rows[i] = store.LogoutOutcome{ID: o.Item.ID, Delivered: o.Status == outbox.Delivered,
			Abandoned: o.Status == outbox.Abandoned, Error: o.Error, At: o.At, Next: o.Next}
	}
	return q.l.DB.RecordLogoutOutcomes(ctx, claim, rows)
}

// LogoutTokenID returns the jti of the logout tokens of notice n: the same
// for every attempt, different for every notice (its ID is unique in the
// database, its creation time and names tell databases apart).
func LogoutTokenID(n store.Logout) string {
	var b []byte
	b = strconv.AppendInt(b, n.ID, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, n.CreatedAt.UnixMicro(), 10)
	b = append(b, n.ClientID[:]...)
	b = append(b, n.UserID[:]...)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// send signs the logout token of n and POSTs it to its client.
func (l *Logouts) send(ctx context.Context, n store.Logout, now time.Time) error {
	c, err := l.DB.OIDCClient(ctx, n.ClientID)
	if err != nil {
		return outbox.Final(fmt.Errorf("client: %w", err))
	}
	if c.BackchannelLogoutURI == "" {
		return outbox.Final(errors.New("the client no longer has a back-channel logout URI"))
	}
	token, err := l.Token(ctx, n, now)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, webhook.DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI,
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return outbox.Final(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "equipe-oidc/1")
	res, err := l.Client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, webhook.ResponseBytes))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode >= 400 && res.StatusCode < 500:
		return outbox.Final(fmt.Errorf("answered %d: %s", res.StatusCode, b))
	}
	return fmt.Errorf("answered %d: %s", res.StatusCode, b)
}

// Token returns the logout token of n, issued at now: signed with the
// current key, typ logout+jwt, with sub and (when the grant had a session)
// sid, never a nonce. Its jti is the notice's (LogoutTokenID): every
// attempt of one notice sends the same logout, by the same jti, signed
// again with a new iat and exp, since a retry comes after the two minutes of
// the first token (Back-Channel Logout 1.0 section 2.5 retransmits a
// request as Push-Based SET Delivery, RFC 8935, does: the same event, which
// a relying party that checks jti, section 2.6, recognises).
func (l *Logouts) Token(ctx context.Context, n store.Logout, now time.Time) (string, error) {
	key, err := l.Keys.SigningKey(ctx)
	if err != nil {
		return "", err
	}
	claims := oidc.LogoutTokenClaims{Issuer: l.Issuer, Subject: n.UserID.String(), Audience: oidc.Audience{n.ClientID.String()},
		IssuedAt: oidc.FromTime(now), Expiration: oidc.FromTime(now.Add(LogoutTokenLifetime)), JWTID: LogoutTokenID(n),
		Events: map[string]any{BackchannelLogoutEvent: struct{}{}}}
	if n.SessionID != nil {
		claims.SessionID = n.SessionID.String()
	}
	payload, err := json.Marshal(&claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(),
		Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}}, (&jose.SignerOptions{}).WithType(LogoutTokenType))
	if err != nil {
		return "", err
	}
	sig, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return sig.CompactSerialize()
}
