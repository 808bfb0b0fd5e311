package team

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/event"
	"github.com/equipe-dev/equipe/identity"
	"github.com/equipe-dev/equipe/work"
)

// KeyPrefix starts the secrets of keys made with no prefix configured
// (Service.KeyPrefix), and of every key made before the prefix followed
// the brand: equipe.DefaultKeyPrefix.
const KeyPrefix = equipe.DefaultKeyPrefix

// keyTouchEvery bounds how often a key's last-used time is written.
const keyTouchEvery = time.Minute

type keyEntry struct {
	key     *equipe.APIKey // shared by the requests that use it: never changed
	touched time.Time
}

// keyHash is the SHA-256 of a key's secret: what the store keeps.
type keyHash [sha256.Size]byte

func invalidKey() error { return equipe.Errorf(equipe.EUNAUTHORIZED, "api_key.invalid") }

// AuthenticateKey returns the API key whose secret is secret. Unknown and
// revoked keys answer EUNAUTHORIZED "api_key.invalid"; a key whose creator
// may no longer act answers EUNAUTHORIZED with the reason (see
// keyStanding). Keys are cached, and the key returned is the cache's, shared
// by every request that uses it: callers read it and never change it. A
// revocation, and any change to its creator's standing, reaches every
// process through the store's change notifications.
func (s *Service) AuthenticateKey(ctx context.Context, secret string) (*equipe.APIKey, error) {
	// Whatever its prefix: a key made under one the instance used before
	// is as valid as one made under today's, and the hash of the whole
	// secret is what finds it.
	if !equipe.IsKeySecret(secret) {
		return nil, invalidKey()
	}
	// Hashing a copy on the stack spares the heap a copy of the secret on
	// every request.
	var b [equipe.MaxKeySecretLen]byte
	n := copy(b[:], secret)
	h := keyHash(sha256.Sum256(b[:n]))
	e, err := s.keyActing(ctx, h)
	if err != nil {
		return nil, err
	}
	s.keyUsed(h, e)
	return e.key, nil
}

// keyUsed records, at most once a minute, that the key of entry e (whose
// secret hashes to h) was used now.
func (s *Service) keyUsed(h keyHash, e keyEntry) {
	if now := s.now(); now.Sub(e.touched) >= keyTouchEvery && s.cache.claimTouch(h, now) {
		s.recordKeyUse(e.key.ID, now)
	}
}

// keyActing returns the cache's entry of the key whose secret hashes to h,
// read from the store on a miss, if the key may act now; else the refusal
// AuthenticateKey answers. It is the whole of authenticating a key but for
// hashing its secret and recording its use: what a request costs, nothing
// more, with the cache warm.
func (s *Service) keyActing(ctx context.Context, h keyHash) (keyEntry, error) {
	e, ok := s.cache.key(h)
	if !ok {
		gen := s.cache.generation()
		hash := h // a copy for the store: h itself stays on the stack
		k, err := s.DB.APIKeyByHash(ctx, hash[:])
		if equipe.ErrorCode(err) == equipe.ENOTFOUND {
			return keyEntry{}, invalidKey()
		} else if err != nil {
			return keyEntry{}, err
		}
		e = keyEntry{key: &k, touched: k.LastUsedAt}
		s.cache.putKey(gen, h, e)
	}
	if !e.key.RevokedAt.IsZero() {
		return keyEntry{}, invalidKey()
	}
	if err := s.keyStanding(ctx, e.key); err != nil {
		return keyEntry{}, err
	}
	return e, nil
}

// stillActs authenticates again the key an actor authenticated with,
// earlier, as AuthenticateKey would now: a use case that goes on acting for
// one request (the change stream) calls it before each step, so that a
// revocation, or a change to the key creator's standing, made since the
// request began stops it as it stops the next request, and the key's use
// is recorded as a request's is (its last use moves on while a stream
// lasts). It returns the key as it stands now, or AuthenticateKey's refusal.
func (s *Service) stillActs(ctx context.Context, k *equipe.APIKey) (*equipe.APIKey, error) {
	if len(k.Hash) != sha256.Size {
		return nil, invalidKey()
	}
	h := keyHash(k.Hash)
	e, err := s.keyActing(ctx, h)
	if err != nil {
		return nil, err
	}
	s.keyUsed(h, e)
	return e.key, nil
}

// stillActsNow reads the key and its creator's standing again from the
// database, past the cache, and answers as AuthenticateKey would: the
// cache hears of a change only once its transaction has committed, so a
// use case that has read something committed after it authenticated the
// key asks again here before it lets it out.
func (s *Service) stillActsNow(ctx context.Context, k *equipe.APIKey) error {
	fresh, err := s.DB.APIKeyByHash(ctx, k.Hash)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		return invalidKey()
	} else if err != nil {
		return err
	}
	if !fresh.RevokedAt.IsZero() {
		return invalidKey()
	}
	return s.keyStandingNow(ctx, &fresh)
}

// recordKeyUse writes that the key id was used at at, in the background:
// the request that claimed the write (one a minute per key) answers without
// waiting for it.
//
// What it saves: a database write on the request's path. That request
// waited for the write (on SQLite behind any other writer, then a commit's
// fsync: milliseconds, up to the busy timeout while a long write holds the
// database), so once a minute a check waited for the disk, in the
// check API's tail. A write that fails is logged; the time is then
// recorded at the key's next use a minute later.
func (s *Service) recordKeyUse(id equipe.ID, at time.Time) {
	s.keyUses.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DB.TouchAPIKey(ctx, id, at); err != nil {
			s.Log.Warn("record API key use", "err", err)
		}
	})
}

// WaitKeyUses waits for the writes of API keys' last use in flight: call
// it before closing the database.
func (s *Service) WaitKeyUses() { s.keyUses.Wait() }

// NewKey is an API key to create.
type NewKey struct {
	Name string
	Role string // for an account key: the role it acts with
	// Purpose is what the key is for: equipe.KeyAPI (the default) or, for
	// an account key, equipe.KeySCIM.
	Purpose string
}

// CreateKey creates an API key for the account, or for the instance when
// account is nil, and returns it with its secret: the only time the secret
// is shown. An account key needs api_keys.manage, and its role must be one
// the actor could give a member (only an administrator makes an
// administrator key). An instance key needs an instance administrator.
func (s *Service) CreateKey(ctx context.Context, actor Actor, account *equipe.ID, in NewKey) (equipe.APIKey, string, error) {
	m, err := s.mayCreateKey(ctx, actor, account)
	if err != nil {
		return equipe.APIKey{}, "", err
	}
	var v equipe.Invalid
	name := identity.CheckLabel(&v, "name", in.Name, 100)
	k := equipe.APIKey{ID: equipe.NewID(), AccountID: account, Name: name, CreatedBy: actor.userID(), CreatedAt: s.now(),
		Purpose: in.Purpose}
	switch {
	case in.Purpose != equipe.KeyAPI && in.Purpose != equipe.KeySCIM:
		v.Add("purpose", "api_key.purpose_invalid")
	case in.Purpose == equipe.KeySCIM && account == nil:
		// SCIM provisions one account's members: the key is that account's.
		v.Add("purpose", "api_key.scim_account_only")
	}
	if account != nil {
		role, found, err := s.resolveRole(ctx, s.DB.Queries, *account, in.Role)
		if err != nil {
			return equipe.APIKey{}, "", err
		}
		if !found {
			v.Add("role", "role.unknown")
		} else if err := s.mayGrantRole(m, role); err != nil {
			return equipe.APIKey{}, "", err
		}
		k.Role = in.Role
	}
	if err := v.Err(); err != nil {
		return equipe.APIKey{}, "", err
	}
	prefix := s.keyPrefix()
	secret, err := newKeySecret(s.Work.Rand, prefix)
	if err != nil {
		return equipe.APIKey{}, "", err
	}
	sum := sha256.Sum256([]byte(secret))
	k.Hash = sum[:]
	k.Prefix = secret[:len(prefix)+6]
	err = s.do(ctx, actor, func(u *work.Unit) error {
		if err := u.CreateAPIKey(ctx, &k); err != nil {
			return err
		}
		return u.Record(ctx, event.KeyCreated.New(account, k.ID.String(), nil, &event.Key{Name: k.Name, Role: k.Role, Prefix: k.Prefix,
			Purpose: k.Purpose}))
	})
	if err != nil {
		return equipe.APIKey{}, "", err
	}
	return k, secret, nil
}

// mayCreateKey is the rule of who makes keys, enforced by CreateKey and
// answered by AccountActions and MayCreateInstanceKey: an account key needs
// api_keys.manage in the account, an instance key an instance
// administrator; either needs a person (keys do not beget keys) whose
// address is confirmed. It returns the actor's membership in the account.
func (s *Service) mayCreateKey(ctx context.Context, actor Actor, account *equipe.ID) (*access.Member, error) {
	var m *access.Member
	if account == nil {
		if !actor.instance() || actor.Key != nil {
			return nil, forbidden("api_key.instance_admin_only", nil)
		}
	} else {
		var err error
		if m, _, err = s.authorize(ctx, actor, *account, "api_keys.manage"); err != nil {
			return nil, err
		}
	}
	return m, keyMaker(actor)
}

// keyMaker is the part of the rule that depends on the person alone.
func keyMaker(actor Actor) error {
	if actor.Key != nil {
		return forbidden("api_key.keys_cannot_create_keys", nil)
	}
	if actor.User == nil {
		// A key acts while the person who made it may (keyStanding): one
		// made with nobody behind it would be refused at its first use.
		return forbidden("api_key.needs_person", nil)
	}
	if actor.User != nil && actor.User.EmailVerifiedAt.IsZero() {
		// A key outlives the session that made it: whoever signed up with an
		// address they do not read must not leave one behind for when the
		// address's owner takes it back.
		return forbidden("api_key.email_unverified", map[string]any{"email": actor.User.Email})
	}
	return nil
}

// MayCreateInstanceKey answers whether the actor may create an instance
// key, with the refusal CreateKey would answer.
func (s *Service) MayCreateInstanceKey(ctx context.Context, actor Actor) Allowed {
	_, err := s.mayCreateKey(ctx, actor, nil)
	return allowed(err)
}

// KeyView is an API key (never its secret) with where it stands and what
// the reader may do with it.
type KeyView struct {
	equipe.APIKey
	// Inactive says why a key that is not revoked may not act now (its
	// creator is suspended, gone, disabled, no instance administrator): the
	// code its requests are refused with; "" for a key that acts.
	Inactive string
	// Narrowed: the key's role grants more than its creator holds now; it
	// acts with no more than its creator's rights.
	Narrowed bool
	Actions  Actions
}

// KeyRevoke is the action that revokes a key.
const KeyRevoke = "revoke"

// Keys returns a page of the API keys of the account (nil: the
// instance's), the whole list for the whole page, newest first, with the
// cursor of the next page ("" after the last).
func (s *Service) Keys(ctx context.Context, actor Actor, account *equipe.ID, p equipe.Page) ([]KeyView, string, error) {
	if err := s.mayManageKeys(ctx, actor, account); err != nil {
		return nil, "", err
	}
	if err := p.CheckOrWhole(); err != nil {
		return nil, "", err
	}
	keys, next, err := s.DB.APIKeys(ctx, account, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]KeyView, 0, len(keys))
	for _, k := range keys {
		kv := KeyView{APIKey: k}
		var revoke error
		if !k.RevokedAt.IsZero() {
			revoke = conflict("api_key.already_revoked", nil)
		} else {
			if err := s.keyStanding(ctx, &k); err != nil {
				if equipe.ErrorCode(err) != equipe.EUNAUTHORIZED {
					return nil, "", err
				}
				kv.Inactive = equipe.AsError(err).Key
			} else if k.AccountID != nil {
				if kv.Narrowed, err = s.keyNarrowed(ctx, &k); err != nil {
					return nil, "", err
				}
			}
		}
		kv.Actions = Actions{{KeyRevoke, allowed(revoke)}}
		out = append(out, kv)
	}
	return out, next, nil
}

// keyNarrowed reports whether the account key's role grants more than its
// creator holds now.
func (s *Service) keyNarrowed(ctx context.Context, k *equipe.APIKey) (bool, error) {
	m, err := s.keyMember(ctx, k, *k.AccountID)
	if err != nil || m == nil {
		return false, err
	}
	role, _, err := s.resolveRole(ctx, s.DB.Queries, *k.AccountID, k.Role)
	if err != nil {
		return false, err
	}
	full := s.Catalogue.Compile(access.Input{UserID: k.ID, AccountID: *k.AccountID, Role: role, Status: access.MemberActive})
	return full.Set() != m.Set() || full.RoleKey() != m.RoleKey(), nil
}

// keyMember returns what the account key may do in its account: its role,
// held within its creator's current rights there (access.Catalogue.Narrow),
// or nil when its creator may do nothing there.
func (s *Service) keyMember(ctx context.Context, k *equipe.APIKey, account equipe.ID) (*access.Member, error) {
	role, _, err := s.resolveRole(ctx, s.DB.Queries, account, k.Role)
	if err != nil {
		return nil, err
	}
	// The key stands in for a member: its ID takes the user's place.
	m := s.Catalogue.Compile(access.Input{UserID: k.ID, AccountID: account, Role: role, Status: access.MemberActive})
	if k.CreatedBy == nil {
		return nil, nil
	}
	e, err := s.loadMember(ctx, account, *k.CreatedBy)
	if err != nil || e.m == nil || e.m.Blocked() != "" {
		return nil, err
	}
	return s.Catalogue.Narrow(m, e.m), nil
}

// RevokeKey revokes a key of the account (nil: of the instance). From the
// next request on, in every process, it opens nothing.
func (s *Service) RevokeKey(ctx context.Context, actor Actor, account *equipe.ID, id equipe.ID) error {
	if err := s.mayManageKeys(ctx, actor, account); err != nil {
		return err
	}
	return s.do(ctx, actor, func(u *work.Unit) error {
		return s.revokeKey(ctx, u, account, id, "")
	})
}

// revokeKey revokes the key of the account (nil: of the instance) in the
// unit, for reason (empty: a person revoked it). A key already revoked
// answers ECONFLICT "api_key.already_revoked"; an unknown one, ENOTFOUND.
func (s *Service) revokeKey(ctx context.Context, u *work.Unit, account *equipe.ID, id equipe.ID, reason string) error {
	err := u.RevokeAPIKey(ctx, account, id, u.Now(), reason)
	if equipe.ErrorCode(err) == equipe.ENOTFOUND {
		if k, kerr := u.APIKey(ctx, account, id); kerr == nil && !k.RevokedAt.IsZero() {
			return conflict("api_key.already_revoked", nil)
		}
		return notFound()
	} else if err != nil {
		return err
	}
	return u.Record(ctx, event.KeyRevoked.New(account, id.String(), nil, &event.Revocation{Reason: reason}))
}

// revokeKeysOf revokes in the unit the keys the user made in the account
// that are still active, for reason: the keys of a creator who leaves the
// account end with their access, and do not come back if they return.
func (s *Service) revokeKeysOf(ctx context.Context, u *work.Unit, account, user equipe.ID, reason string) error {
	keys, _, err := u.APIKeys(ctx, &account, equipe.Page{})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.RevokedAt.IsZero() && k.CreatedBy != nil && *k.CreatedBy == user {
			if err := s.revokeKey(ctx, u, &account, k.ID, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// Why a key whose creator may no longer act is refused: the key acts with
// at most its creator's current rights, and with none once they have none.
const (
	keyCreatorSuspended        = "api_key.creator_suspended"          // suspended in the key's account
	keyCreatorGone             = "api_key.creator_not_member"         // no longer, or not yet, a member who may act there
	keyCreatorDisabled         = "api_key.creator_disabled"           // disabled in every account
	keyCreatorNotInstanceAdmin = "api_key.creator_not_instance_admin" // an instance key's creator is no instance administrator
)

// keyStanding returns why the key may not act, or nil: an account key
// follows its creator's membership of the account (suspended, removed, not
// joined, disabled: the key stops), an instance key its creator's standing
// as an instance administrator. The refusal is EUNAUTHORIZED with a code
// that says why. It reads the cache, which every change to a membership or
// a user keeps fresh in every process.
func (s *Service) keyStanding(ctx context.Context, k *equipe.APIKey) error {
	if k.CreatedBy == nil {
		return refuseKey(keyCreatorGone)
	}
	if k.AccountID == nil {
		u, err := s.loadUser(ctx, *k.CreatedBy)
		if err != nil {
			return err
		}
		return instanceKeyStanding(u)
	}
	h, err := s.loadHeld(ctx, *k.AccountID, *k.CreatedBy)
	if err != nil {
		return err
	}
	return accountKeyStanding(h.member())
}

// keyStandingNow is keyStanding read from the database, past the cache.
func (s *Service) keyStandingNow(ctx context.Context, k *equipe.APIKey) error {
	if k.CreatedBy == nil {
		return refuseKey(keyCreatorGone)
	}
	if k.AccountID == nil {
		u, err := userEntryOf(s.DB.UserByID(ctx, *k.CreatedBy))
		if err != nil {
			return err
		}
		return instanceKeyStanding(u)
	}
	e, err := s.compileMember(ctx, *k.AccountID, *k.CreatedBy)
	if err != nil {
		return err
	}
	return accountKeyStanding(e.m)
}

func refuseKey(code string) error { return equipe.Errorf(equipe.EUNAUTHORIZED, code) }

// instanceKeyStanding is keyStanding's answer for an instance key made by u.
func instanceKeyStanding(u userEntry) error {
	switch {
	case !u.exists || !u.instanceAdmin:
		return refuseKey(keyCreatorNotInstanceAdmin)
	case u.disabled:
		return refuseKey(keyCreatorDisabled)
	}
	return nil
}

// accountKeyStanding is keyStanding's answer for an account key made by the
// member m (nil: no member).
func accountKeyStanding(m *access.Member) error {
	if m == nil {
		return refuseKey(keyCreatorGone)
	}
	switch m.Blocked() {
	case "":
		return nil
	case access.DeniedUserDisabled:
		return refuseKey(keyCreatorDisabled)
	case access.DeniedMemberSuspended:
		return refuseKey(keyCreatorSuspended)
	}
	return refuseKey(keyCreatorGone)
}

func (s *Service) mayManageKeys(ctx context.Context, actor Actor, account *equipe.ID) error {
	if account == nil {
		if !actor.instance() {
			return notFound()
		}
		return nil
	}
	_, _, err := s.authorize(ctx, actor, *account, "api_keys.manage")
	return err
}

// mayGrantRole reports, as an error, why the actor may not give role to a
// member or a key: only an administrator gives the administrator role, and
// nobody gives permissions they do not hold.
func (s *Service) mayGrantRole(actor *access.Member, role access.Role) error {
	if role.Key == equipe.RoleAdmin && !isAdmin(actor) {
		return forbidden("role.admin_only", nil)
	}
	if ok, missing := s.Catalogue.CoversRole(actor, role); !ok {
		return s.missingRefusal("role.beyond_own", missing)
	}
	return nil
}

// keyPrefix is the prefix of the keys made now.
func (s *Service) keyPrefix() string {
	if s.brand != nil {
		// The brand in force: an administrator may have changed the
		// prefix since the start.
		return s.brand.live.Load().KeyPrefix
	}
	if s.KeyPrefix == "" {
		return KeyPrefix
	}
	return s.KeyPrefix
}

func newKeySecret(r io.Reader, prefix string) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}
