package api_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/app/apptest"
)

var (
	rateLimitPolicy = regexp.MustCompile(`^"reset:ip";q=20;w=3600$`)
	rateLimitState  = regexp.MustCompile(`^"reset:ip";r=(\d+);t=(\d+)$`)
)

// TestRateLimit_AnswersTellTheLimitAndThrottledOnesWhenToComeBack sends 21
// password-reset requests from one address, whose limit is 20 an hour: each
// answer tells the policy and the requests left in RateLimit-Policy and
// RateLimit (the per-address limit of the email asked for is never told),
// the 21st is refused with 429, Retry-After and none left; an answer that
// no limit counted tells none.
func TestRateLimit_AnswersTellTheLimitAndThrottledOnesWhenToComeBack(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		for i := 1; i <= 21; i++ {
			r := call(t, c, "POST", env.URL+"/api/v1/password-reset", map[string]any{"email": fmt.Sprintf("p%d@example.com", i%2)})
			want := 202
			if i == 21 {
				want = 429
			}
			if r.Status != want {
				t.Fatalf("request %d: %d %s", i, r.Status, r.Raw)
			}
			if p := r.Header.Get("RateLimit-Policy"); !rateLimitPolicy.MatchString(p) {
				t.Fatalf("request %d: RateLimit-Policy %q", i, p)
			}
			m := rateLimitState.FindStringSubmatch(r.Header.Get("RateLimit"))
			if m == nil {
				t.Fatalf("request %d: RateLimit %q", i, r.Header.Get("RateLimit"))
			}
			left, _ := strconv.Atoi(m[1])
			reset, _ := strconv.Atoi(m[2])
			if left != max(0, 20-i) || reset < 1 || reset > 3600 {
				t.Errorf("request %d: %d left, window ends in %d s", i, left, reset)
			}
			if i < 21 {
				continue
			}
			retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || retry < 1 || retry > 3600 || retry != reset {
				t.Errorf("throttled: Retry-After %q, RateLimit's t=%d", r.Header.Get("Retry-After"), reset)
			}
			if r.code() != "error.rate_limited" {
				t.Errorf("throttled: code %q", r.code())
			}
		}
		token := signUp(t, env, "ratelimit@example.com")
		r := call(t, c, "GET", env.URL+"/api/v1/me", nil, bearer(token)...)
		if r.Status != 200 || r.Header.Get("RateLimit") != "" || r.Header.Get("RateLimit-Policy") != "" {
			t.Errorf("an answer no limit counted: %d RateLimit %q RateLimit-Policy %q", r.Status, r.Header.Get("RateLimit"),
				r.Header.Get("RateLimit-Policy"))
		}
	})
}

// TestRateLimit_SignUpTellsItsPerAddressLimit: a sign-up counts against the
// client address's limit of 20 an hour, and its answer says so, whether it
// made an account or the address was taken.
func TestRateLimit_SignUpTellsItsPerAddressLimit(t *testing.T) {
	each(t, func(t *testing.T, env *apptest.Env) {
		c := env.Client()
		for i, want := range []int{201, 409} {
			r := call(t, c, "POST", env.URL+"/api/v1/signup", signupBody("limit@example.com"))
			if r.Status != want {
				t.Fatalf("sign-up %d: %d %s", i+1, r.Status, r.Raw)
			}
			if p := r.Header.Get("RateLimit-Policy"); p != `"signup:ip";q=20;w=3600` {
				t.Errorf("sign-up %d: RateLimit-Policy %q", i+1, p)
			}
			if s := r.Header.Get("RateLimit"); !strings.HasPrefix(s, fmt.Sprintf(`"signup:ip";r=%d;t=`, 19-i)) {
				t.Errorf("sign-up %d: RateLimit %q", i+1, s)
			}
		}
	})
}
