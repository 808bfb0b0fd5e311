package api

import "net/http"

type removeFactorsRequest struct {
	Reason string `json:"reason"`
}

// removeSecondFactors removes a user's second factors, for instance
// administrators and instance keys, and answers what the user had.
func (a *API) removeSecondFactors(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "user")
	if err != nil {
		return err
	}
	var in removeFactorsRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	had, err := a.Team.RemoveSecondFactors(r.Context(), actor(r), id, in.Reason)
	if err != nil {
		return err
	}
	return respond(w, http.StatusOK, map[string]secondFactorsView{"removed": {TOTP: had.TOTP, Passkeys: had.Passkeys,
		RecoveryCodes: had.RecoveryCodes}})
}
