package api

import (
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/access"
)

// parseCheck must give what json.Unmarshal gives whenever it accepts a body:
// the fuzzer looks for a body where the two disagree.
func FuzzParseCheck(f *testing.F) {
	for _, s := range []string{
		`{}`,
		` { } `,
		`{"user_id":"0190a0b0-0000-7000-8000-000000000000","account_id":"0190a0b0-0000-7000-8000-000000000001","permission":"records.view"}`,
		`{"user_id":"u","account_id":"a","permission":"records.view","resource_id":"r","owner_id":"o"}`,
		`{"user_id":"u","account_id":"a","permission":"p","resource_id":null,"owner_id":null}`,
		"{\n\t\"permission\" : \"records.edit\" ,\r\n \"owner_id\":null }\n",
		`{"user_id":"u","user_id":"v"}`,
		`{"User_id":"u"}`,
		`{"user_id":"\u0075"}`,
		`{"user_id":"é"}`,
		`{"user_id":null}`,
		`{"user_id":1}`,
		`{"owner_id":1}`,
		`{"owner_id":{}}`,
		`{"resource_id":true}`,
		`{"user_id":"u"} x`,
		`{"user_id":"u"}{}`,
		`{"user_id":"u",}`,
		`{"owner_id":nul}`,
		`{"owner_id":nullx}`,
		`{"extra":"x"}`,
		`{"user_id":"u"`,
		`{"user_id":"u" "account_id":"a"}`,
		`{"permission":"records.view\u0000"}`,
		`{"user_id":"0190a0b000007000800000000000000a","account_id":"{0190a0b0-0000-7000-8000-000000000001}"}`,
		`{"owner_id":"urn:uuid:0190a0b0-0000-7000-8000-000000000001","resource_id":"0190A0B0-0000-7000-8000-00000000000F"}`,
	} {
		f.Add([]byte(s))
	}
	perms := map[string]string{}
	for _, p := range access.Default().Permissions {
		perms[p.Key] = p.Key
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast checkQuestion
		if !parseCheck(body, perms, &fast) {
			return
		}
		var ref checkRequest
		if err := json.Unmarshal(body, &ref, strict); err != nil {
			t.Fatalf("parseCheck accepts %q, json.Unmarshal refuses it: %v", body, err)
		}
		if fast != ref.question() {
			t.Fatalf("%q: parseCheck reads %+v, json.Unmarshal %+v", body, fast, ref.question())
		}
	})
}

func TestParseCheck_LeavesTheUnusualToJSONUnmarshal(t *testing.T) {
	for _, s := range []string{
		`{"user_id":"u","user_id":"v"}`, // duplicate: refused by json.Unmarshal
		`{"User_id":"u"}`,               // unknown name
		`{"user_id":"\u0075"}`,          // escape
		`{"user_id":null}`,              // null for a string
		`{"owner_id":1}`,                // not a string
		`{"user_id":"u"} x`,             // trailing data
		`{"user_id":"u",}`,              // malformed
	} {
		var c checkQuestion
		if parseCheck([]byte(s), nil, &c) {
			t.Errorf("parseCheck accepts %s", s)
		}
	}
	user, account := equipe.NewID(), equipe.NewID()
	var c checkQuestion
	body := `{"user_id":"` + user.String() + `","account_id":"` + account.String() +
		`","permission":"p","resource_id":"r","owner_id":null}`
	want := checkQuestion{user: parsedID{user, true}, account: parsedID{account, true}, permission: "p",
		hasResource: true, ownerPresent: true, ownerNull: true}
	if !parseCheck([]byte(body), nil, &c) || c != want {
		t.Errorf("plain check read as %+v, want %+v", c, want)
	}
}

// The check's answer, written by hand, is what json.Marshal writes.
func TestCheckAnswer_WrittenAsJSONMarshalWould(t *testing.T) {
	reasons := []access.Reason{access.Allowed, access.AllowedScopeAll, access.AllowedScopeOwnedOrUnassigned,
		access.AllowedScopeOwned, access.DeniedUnknownAccount, access.DeniedUnknownUser, access.DeniedNotMember,
		access.DeniedStaleMember, access.DeniedUnknownPermission, access.DeniedInvalidQuery, access.DeniedUserDisabled,
		access.DeniedMemberSuspended, access.DeniedMemberNotActive, access.DeniedByOverride, access.DeniedNotGranted,
		access.DeniedUnknownResource, access.DeniedResourceNotAssigned, access.DeniedScope, `odd "reason" <&>`}
	for _, r := range reasons {
		for _, allowed := range []bool{true, false} {
			c := checkAnswer{Allowed: allowed, Reason: string(r)}
			want, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.appendJSON(nil); string(got) != string(want) {
				t.Errorf("%s, want %s", got, want)
			}
		}
	}
}
