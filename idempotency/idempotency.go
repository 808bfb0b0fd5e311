package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/store"
)

// Rules of the keys.
const (
	// TTL is how long a key and its answer are kept.
	TTL = 24 * time.Hour
	// Lease is how long a claim holds without an answer: longer than any
	// request may run (the server's write timeout is 60 s).
	Lease = 90 * time.Second
	// MaxKeyLen is the longest key accepted, in bytes.
	MaxKeyLen = 255
	// MaxAnswer is the largest answer body kept; a larger one is not
	// kept, and the key is freed.
	MaxAnswer = 1 << 20
)

// Service keeps the answers of idempotent requests.
type Service struct {
	DB  *store.DB
	Now func() time.Time
}

// Request is a request made with a key: its caller's scope, the key, and
// the fingerprint of what was asked.
type Request struct {
	Scope       string
	Key         string
	Fingerprint [sha256.Size]byte
}

// Answer is a stored answer: its status, the header fields kept and the
// body.
type Answer struct {
	Status int
	Header map[string]string
	Body   []byte
}

// Claim is the right to run a request: the caller runs it, then calls
// Finish with its answer or Release.
type Claim struct {
	row store.IdempotentRequest
}

// ValidKey reports whether key is an acceptable Idempotency-Key: 1 to
// MaxKeyLen printable ASCII characters.
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// Fingerprint returns what identifies a request beyond its key: its
// method, path with query, and body.
func Fingerprint(method, target string, body []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write(body)
	var fp [sha256.Size]byte
	h.Sum(fp[:0])
	return fp
}

// Begin claims req's key, or returns the answer stored under it. Returns
// a claim (and a nil answer) when the request is to run; the stored answer
// when the same request already ran; ECONFLICT "idempotency.in_progress"
// while it is running; EINVALID "idempotency.key_reused" when the key was
// used for another request.
func (s *Service) Begin(ctx context.Context, req Request) (*Claim, *Answer, error) {
	now := s.Now()
	row, claimed, err := s.DB.ClaimIdempotencyKey(ctx, req.Scope, req.Key, req.Fingerprint[:], now, now.Add(Lease), now.Add(-TTL))
	if err != nil {
		return nil, nil, err
	}
	if claimed {
		return &Claim{row: row}, nil, nil
	}
	if string(row.Fingerprint) != string(req.Fingerprint[:]) {
		return nil, nil, equipe.Errorf(equipe.EINVALID, "idempotency.key_reused")
	}
	if !row.Done {
		return nil, nil, &equipe.Error{Code: equipe.ECONFLICT, Key: "idempotency.in_progress"}
	}
	a := &Answer{Status: row.Status, Body: row.Body}
	if err := json.Unmarshal([]byte(row.Header), &a.Header); err != nil {
		return nil, nil, err
	}
	return nil, a, nil
}

// Finish stores the answer of the claimed request. An answer larger than
// MaxAnswer is not kept: the key is freed instead.
func (s *Service) Finish(ctx context.Context, c *Claim, a Answer) error {
	if len(a.Body) > MaxAnswer {
		return s.Release(ctx, c)
	}
	h, err := json.Marshal(a.Header)
	if err != nil {
		return err
	}
	row := c.row
	row.Status, row.Header, row.Body = a.Status, string(h), a.Body
	if row.Body == nil {
		row.Body = []byte{}
	}
	return s.DB.FinishIdempotencyKey(ctx, row)
}

// Release frees the claimed key without an answer: the request failed in
// a way that a retry may mend, and a retry runs it again.
func (s *Service) Release(ctx context.Context, c *Claim) error {
	return s.DB.ReleaseIdempotencyKey(ctx, c.row)
}

// Prune deletes the keys older than TTL. Returns how many.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	return s.DB.DeleteExpiredIdempotencyKeys(ctx, s.Now().Add(-TTL))
}
