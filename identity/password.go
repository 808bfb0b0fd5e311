package identity

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Password length limits, in code points after NFKC normalisation.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultParams are OWASP's first argon2id recommendation: 19 MiB, two
// passes, one lane.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// Hasher hashes and verifies passwords with argon2id. At most a few hashes run
// at once (each takes Memory of RAM): a flood of logins queues instead of
// exhausting memory.
type Hasher struct {
	p     Params
	sem   chan struct{}
	dummy string
	n     atomic.Uint64
	spent atomic.Int64 // nanoseconds spent deriving keys

	// trim returns hashing memory to the operating system once hashing has
	// been quiet for trimAfter: each hash allocates Memory afresh, and the
	// runtime would otherwise keep a burst's worth for minutes.
	trimMu sync.Mutex
	trim   *time.Timer

	// log, when set (SetLog), is told at debug level each time hashing
	// memory is returned, so that whoever measures the idle process knows
	// when.
	log atomic.Pointer[slog.Logger]
}

// SetLog has the Hasher log to l.
func (h *Hasher) SetLog(l *slog.Logger) { h.log.Store(l) }

// trimAfter is how long hashing must be quiet before its memory is returned.
const trimAfter = 5 * time.Second

// NewHasher returns a Hasher using p.
func NewHasher(p Params) *Hasher {
	h := &Hasher{p: p, sem: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	// A hash with the Hasher's parameters, a random salt and a random key:
	// verifying against it costs what a real verification costs, so an
	// unknown email takes as long as a known one, and nothing matches it.
	// No key is derived for it, which would cost a hash's time and memory
	// at every start.
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	rand.Read(salt)
	rand.Read(key)
	h.dummy = phc(p, salt, key)
	return h
}

// phc formats a hash in PHC string form: $argon2id$v=19$m=…,t=…,p=…$salt$key.
func phc(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Params returns the parameters new hashes use.
func (h *Hasher) Params() Params { return h.p }

// Hash returns the argon2id hash of the NFKC-normalised password in PHC string
// form: $argon2id$v=19$m=…,t=…,p=…$salt$key.
func (h *Hasher) Hash(password string) string {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("identity: no randomness: " + err.Error())
	}
	return phc(h.p, salt, h.derive(password, salt, h.p))
}

func (h *Hasher) derive(password string, salt []byte, p Params) []byte {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	defer h.scheduleTrim()
	start := time.Now()
	defer func() { h.spent.Add(int64(time.Since(start))) }()
	return argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// returnMemory gives the memory hashing took back to the operating system.
func (h *Hasher) returnMemory() {
	debug.FreeOSMemory()
	if l := h.log.Load(); l != nil {
		l.Debug("hashing memory returned to the operating system")
	}
}

func (h *Hasher) scheduleTrim() {
	h.trimMu.Lock()
	defer h.trimMu.Unlock()
	if h.trim == nil {
		h.trim = time.AfterFunc(trimAfter, h.returnMemory)
		return
	}
	h.trim.Reset(trimAfter)
}

// Verify reports whether password matches hash, and whether hash should be
// replaced because its parameters differ from the Hasher's. An empty or
// malformed hash is verified against a dummy hash, taking the same time, and
// never matches.
func (h *Hasher) Verify(hash, password string) (ok, rehash bool) {
	h.n.Add(1)
	p, salt, key, err := parsePHC(hash)
	if err != nil {
		p, salt, key, _ = parsePHC(h.dummy)
		h.derive(password, salt, p)
		return false, false
	}
	got := h.derive(password, salt, p)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != h.p
}

// Verifications returns how many verifications the Hasher has run.
func (h *Hasher) Verifications() uint64 { return h.n.Load() }

// Spent returns the time the Hasher has spent deriving keys (hashing and
// verifying), not counting waits for a free slot.
func (h *Hasher) Spent() time.Duration { return time.Duration(h.spent.Load()) }

func parsePHC(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("argon2 parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, err
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, err
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || len(key) < 16 || len(salt) < 8 || p.Memory > 1<<22 {
		return p, nil, nil, fmt.Errorf("argon2 parameters out of range")
	}
	p.KeyLen, p.SaltLen = uint32(len(key)), uint32(len(salt))
	return p, salt, key, nil
}

//go:embed common-passwords.txt
var commonPasswordList []byte

// commonPasswords holds the lower-cased entries of common-passwords.txt.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range bytes.Split(commonPasswordList, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			m[strings.ToLower(string(line))] = true
		}
	}
	return m
}()

// CheckPassword returns the message key of the first rule password breaks,
// or "" when it is acceptable. Rules (NIST SP 800-63B §3.1.1.2): 12 to 256
// code points after NFKC normalisation, no composition rules, not a common
// password (even with digits or symbols around it, or letters swapped for
// look-alike digits), not one character repeated, and not made mostly of the
// context words: the person's email, names, account name, the service name.
func CheckPassword(password string, context ...string) string {
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	switch {
	case n == 0:
		return "password.required"
	case n < MinPasswordLen:
		return "password.too_short"
	case n > MaxPasswordLen:
		return "password.too_long"
	}
	if !utf8.ValidString(pw) || strings.ContainsFunc(pw, func(r rune) bool { return r == 0 }) {
		return "password.invalid"
	}
	lower := strings.ToLower(pw)
	if commonPasswords[lower] || commonPasswords[deleet(strings.TrimFunc(lower, notLetter))] {
		return "password.common"
	}
	if repeatedOrSequence(lower) {
		return "password.common"
	}
	rest := lower
	for _, w := range contextWords(context) {
		rest = strings.ReplaceAll(rest, w, "")
	}
	if utf8.RuneCountInString(rest) < 8 {
		return "password.context"
	}
	return ""
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// deleet undoes the usual digit-for-letter swaps: p4ssw0rd → password.
func deleet(s string) string {
	return strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i").Replace(s)
}

// repeatedOrSequence reports whether s is one character repeated or a run of
// consecutive characters (abcdefghijkl, 123456789012, 987654321098).
func repeatedOrSequence(s string) bool {
	rs := []rune(s)
	same, up, down := true, true, true
	for i := 1; i < len(rs); i++ {
		d := rs[i] - rs[i-1]
		same = same && d == 0
		up = up && (d == 1 || rs[i-1] == '9' && rs[i] == '0')
		down = down && (d == -1 || rs[i-1] == '0' && rs[i] == '9')
	}
	return same || up || down
}

// contextWords splits the context into lower-cased words of three or more
// letters, plus the service's name.
func contextWords(context []string) []string {
	words := []string{"equipe"}
	for _, c := range context {
		for _, w := range strings.FieldsFunc(strings.ToLower(c), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if utf8.RuneCountInString(w) >= 3 {
				words = append(words, w)
			}
		}
	}
	return words
}
