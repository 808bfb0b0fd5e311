package identity

import (
	"errors"
	"sync/atomic"

	"github.com/equipe-dev/equipe"
)

// The steps of a login whose outcomes are counted.
const (
	StepPassword     = "password"      // LogIn
	StepSecondFactor = "second_factor" // LogInSecondFactor
)

// The outcomes of a login step.
const (
	LoginSucceeded  = "succeeded"   // a session was opened
	LoginSecondStep = "second_step" // the password was right; a second factor is asked
	LoginFailed     = "failed"      // wrong credentials, an unknown or used challenge, a bad input
	LoginThrottled  = "throttled"   // refused by a throttle, whatever the credentials
	LoginError      = "error"       // the service could not answer (the database)
)

// LoginSteps and LoginOutcomes list the steps and outcomes, in the order
// of Stats.Logins.
var (
	LoginSteps    = []string{StepPassword, StepSecondFactor}
	LoginOutcomes = []string{LoginSucceeded, LoginSecondStep, LoginFailed, LoginThrottled, LoginError}
)

// loginCounts counts logins by step and outcome.
type loginCounts [2][5]atomic.Uint64

func (c *loginCounts) count(step string, err error) {
	i := 0
	if step == StepSecondFactor {
		i = 1
	}
	c[i][loginOutcome(err)].Add(1)
}

// loginOutcome is the index in LoginOutcomes of the outcome whose error is
// err.
func loginOutcome(err error) int {
	var step *SecondFactorRequired
	switch code := equipe.ErrorCode(err); {
	case err == nil:
		return 0
	case errors.As(err, &step):
		return 1
	case code == equipe.EUNAUTHORIZED || code == equipe.EINVALID || code == equipe.ENOTFOUND ||
		code == equipe.EFORBIDDEN || code == equipe.ECONFLICT:
		return 2
	case code == equipe.ERATELIMITED:
		return 3
	default:
		return 4
	}
}

// Stats are the service's counters since it started, for the metrics.
type Stats struct {
	// Logins[i][j] counts the logins of step LoginSteps[i] with outcome
	// LoginOutcomes[j].
	Logins [2][5]uint64
}

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	var st Stats
	for i := range s.logins {
		for j := range s.logins[i] {
			st.Logins[i][j] = s.logins[i][j].Load()
		}
	}
	return st
}
