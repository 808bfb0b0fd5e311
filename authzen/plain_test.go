package authzen

import (
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
	"github.com/equipe-dev/equipe/team"
)

// TestPlainQuestion_ReadsOnlyThePlainFormAndAsTheDecoderDoes: every body
// the plain reader accepts gives the question that decoding it gives; every
// other is left to the decoder.
func TestPlainQuestion_ReadsOnlyThePlainFormAndAsTheDecoderDoes(t *testing.T) {
	s := &Service{Catalogue: access.Default()}
	account := equipe.NewID()
	key := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID(), AccountID: &account}}
	u, o, r := equipe.NewID().String(), equipe.NewID().String(), equipe.NewID().String()
	plain := []string{
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"account","id":"` + account.String() + `"}}`,
		` { "action" : { "name" : "records.edit" } , "subject":{"id":"` + u + `","type":"user"},"resource":{"type":"invoice","id":"7","properties":{"ownerID":null}}}` + "\n",
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"records.view"},"resource":{"type":"invoice","id":"7","properties":{"ownerID":"` + o + `"}},"context":{"account_id":"` + account.String() + `"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"records.view"},"resource":{"type":"location","id":"` + r + `","properties":{"account_id":"` + account.String() + `"}}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_edit"},"resource":{"type":"location","id":"` + r + `","properties":{}}}`,
	}
	for _, body := range plain {
		got, ok := s.plainQuestion([]byte(body), key)
		if !ok {
			t.Errorf("not read: %s", body)
			continue
		}
		var in evaluationRequest
		if err := unmarshal([]byte(body), &in); err != nil || in.required() != nil {
			t.Fatalf("%s: %v", body, err)
		}
		want, err := s.evaluationOf(key, in.Subject, in.Action, in.Resource, in.Context)
		if err != nil || want.known != nil || want.q != got {
			t.Errorf("%s:\nplain   %+v\ndecoded %+v %v", body, got, want.q, err)
		}
	}
	for _, body := range []string{
		`{"subject":{"type":"user","id":"alice@example.com"},"action":{"name":"can_read"},"resource":{"type":"account","id":"1"}}`,
		`{"subject":{"type":"user","id":"` + u + `","properties":{"id_type":"id"}},"action":{"name":"can_read"},"resource":{"type":"invoice","id":"1"}}`,
		`{"subject":{"type":"group","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"invoice","id":"1"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"fly"},"resource":{"type":"invoice","id":"1"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"location","id":"nope"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"invoice","id":"1","properties":{"ownerID":"crm-1"}}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"invoice","id":"1"},"context":{"time":"now"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"invoice","id":"1"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"invoice"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can\u005fread"},"resource":{"type":"invoice","id":"1"}}`,
		`{"subject":{"type":"user","id":"` + u + `"},"action":{"name":"can_read"},"resource":{"type":"invoice","id":"1"}} x`,
	} {
		if _, ok := s.plainQuestion([]byte(body), key); ok {
			t.Errorf("read, though not plain or not resolved here: %s", body)
		}
	}
	// An instance key names the account, or the question is the decoder's.
	instance := team.Actor{Key: &equipe.APIKey{ID: equipe.NewID()}}
	if _, ok := s.plainQuestion([]byte(plain[1]), instance); ok {
		t.Error("an instance key without an account")
	}
}
