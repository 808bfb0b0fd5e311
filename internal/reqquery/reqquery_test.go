package reqquery

import "testing"

func TestParse_RefusesWhatDoesNotParseAndFindsRepeats(t *testing.T) {
	for _, tc := range []struct {
		raw, repeated string
		lists         []string
		bad           bool
	}{
		{raw: "cursor=abc&limit=10"},
		{raw: "q=Zo%C3%A9&&sort=name"},
		{raw: "cursor=%zz", bad: true},
		{raw: "token=abc%zz", bad: true},
		{raw: "password=hunter2;", bad: true},
		{raw: "a=1;b=2", bad: true},
		{raw: "%zz=1", bad: true},
		{raw: "limit=10&cursor=a&cursor=b&sort=x&sort=y", repeated: "cursor"},
		{raw: "sort=a&limit=1&so%72t=b", repeated: "sort"},
		{raw: "user=a&user=b", lists: []string{"user"}},
		{raw: "user=a&user=b&limit=1&limit=2", lists: []string{"user"}, repeated: "limit"},
		{raw: "&&", repeated: ""},
	} {
		q, repeated, err := Parse(tc.raw, tc.lists...)
		if (err != nil) != tc.bad || repeated != tc.repeated || (!tc.bad && q == nil) {
			t.Errorf("Parse(%q) = %v, %q, %v", tc.raw, q, repeated, err)
		}
	}
}
