// Package passkeytest is a software WebAuthn authenticator for tests: it
// answers the options a relying party sends for navigator.credentials.create()
// and .get() with the JSON a browser would post back, signing with ES256 keys
// it keeps in memory. It makes discoverable credentials, verifies the user
// (UV) unless told not to, and counts signatures; tests may turn its counter
// back or answer for another origin to see the server refuse.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Credential is a credential the authenticator holds.
type Credential struct {
	ID         []byte
	UserHandle []byte
	RPID       string
	Key        *ecdsa.PrivateKey
	Counter    uint32
}

// Authenticator is a software authenticator for one origin (the page's).
type Authenticator struct {
	// Origin is what the answers' client data says the page was: the
	// relying party's origin, or another to test a refusal.
	Origin string
	// NoUserVerification makes the answers say the user was present but
	// not verified.
	NoUserVerification bool
	// Synced makes the answers say the credential may be backed up and
	// is (the backup eligible and backed up flags): a synced passkey.
	Synced bool

	Credentials []*Credential
}

// New returns an authenticator for pages of origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

var b64 = base64.RawURLEncoding

// Authenticator data flags.
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

func (a *Authenticator) flags() byte {
	f := byte(flagUP | flagUV)
	if a.NoUserVerification {
		f = flagUP
	}
	if a.Synced {
		f |= flagBE | flagBS
	}
	return f
}

func authData(rpID string, flags byte, counter uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append([]byte{}, h[:]...)
	out = append(out, flags)
	return binary.BigEndian.AppendUint32(out, counter)
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// Create answers registration options (the JSON of
// protocol.CredentialCreation, as the server sends them) with a new
// credential, and returns the JSON of the PublicKeyCredential a browser
// posts back.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var cc protocol.CredentialCreation
	if err := json.Unmarshal(options, &cc); err != nil {
		return nil, err
	}
	opt := cc.Response
	for _, ex := range opt.CredentialExcludeList {
		for _, c := range a.Credentials {
			if string(c.ID) == string(ex.CredentialID) {
				return nil, errors.New("passkeytest: a credential of the exclude list is here (InvalidStateError)")
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	rand.Read(id)
	uid, _ := opt.User.ID.(string)
	handle, err := b64.DecodeString(uid)
	if err != nil || len(handle) == 0 {
		return nil, fmt.Errorf("passkeytest: user.id %v is not base64url", opt.User.ID)
	}
	c := &Credential{ID: id, UserHandle: handle, RPID: opt.RelyingParty.ID, Key: key}
	pub, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, // P-256
		XCoord:        key.X.FillBytes(make([]byte, 32)),
		YCoord:        key.Y.FillBytes(make([]byte, 32)),
	})
	if err != nil {
		return nil, err
	}
	ad := authData(c.RPID, a.flags()|flagAT, 0)
	ad = append(ad, make([]byte, 16)...) // AAGUID: none
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(id)))
	ad = append(ad, id...)
	ad = append(ad, pub...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		return nil, err
	}
	a.Credentials = append(a.Credentials, c)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", opt.Challenge.String(), a.Origin)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Get answers login options (the JSON of protocol.CredentialAssertion) with
// a signature by the credential the options allow, or by the newest one for
// the relying party when they allow any (a discoverable login), and returns
// the JSON of the PublicKeyCredential a browser posts back. Each signature
// counts one more.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var ca protocol.CredentialAssertion
	if err := json.Unmarshal(options, &ca); err != nil {
		return nil, err
	}
	opt := ca.Response
	var use *Credential
	for _, c := range a.Credentials {
		if c.RPID != opt.RelyingPartyID {
			continue
		}
		if len(opt.AllowedCredentials) == 0 {
			use = c
			continue
		}
		for _, al := range opt.AllowedCredentials {
			if string(al.CredentialID) == string(c.ID) {
				use = c
			}
		}
	}
	if use == nil {
		return nil, fmt.Errorf("passkeytest: no credential for %s (NotAllowedError)", opt.RelyingPartyID)
	}
	return a.Sign(use, opt.Challenge.String())
}

// Sign answers a challenge with the credential c, its counter one more.
func (a *Authenticator) Sign(c *Credential, challenge string) ([]byte, error) {
	c.Counter++
	cd := clientData("webauthn.get", challenge, a.Origin)
	ad := authData(c.RPID, a.flags(), c.Counter)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(c.UserHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}
