package authzen

import (
	"net/http"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe/i18n"
)

// respond writes v as JSON with status 200.
func respond(w http.ResponseWriter, v any) error {
	w.Header()["Content-Type"] = jsonType
	return json.MarshalWrite(w, v)
}

// acceptLocale is the language of the request's messages: the one
// Accept-Language asks for, English when it asks for none (a policy point
// seldom does).
func acceptLocale(r *http.Request) string {
	return i18n.NegotiateMachine(r.Header.Get("Accept-Language"))
}
