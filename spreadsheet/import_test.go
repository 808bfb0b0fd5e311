package spreadsheet_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/spreadsheet"
	"github.com/equipe-dev/equipe/team"
)

// TestReadMembers_AFileThatIsNotUTF8IsRefusedAtItsFirstBadLine: Excel's
// "CSV (semicolon delimited)" writes Windows-1252, where "è" is the byte
// E8. Such a file is refused as a whole, with one problem at the first
// line that is not UTF-8, and no row: nothing reads as a name that holds
// U+FFFD, nor as problems quoting broken bytes.
func TestReadMembers_AFileThatIsNotUTF8IsRefusedAtItsFirstBadLine(t *testing.T) {
	cat := i18n.MustLoad()
	for name, tc := range map[string]struct {
		text string
		want team.ImportProblem
	}{
		"a cell": {"email;first_name;last_name;role;title;resources\r\n" +
			"ada@b.example;Ada;Lovelace;collaborator;;Paie\r\n" +
			"res1@x.example;Marc;Dubois;collaborator;Ing\xe9nieur;Si\xe8ge\r\n" +
			"zoe@x.example;Zo\xe9;Martin;collaborator;;Paie\r\n",
			team.ImportProblem{Line: 3, Column: "title", Key: "import.not_utf8"}},
		"the header": {"email;pr\xe9nom\r\nada@b.example;Ada\r\n",
			team.ImportProblem{Line: 1, Key: "import.not_utf8"}},
		"a cell beyond the columns": {"email;first_name\r\nada@b.example;Ada;Si\xe8ge\r\n",
			team.ImportProblem{Line: 2, Key: "import.not_utf8"}},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := spreadsheet.ReadMembers(strings.NewReader(tc.text), cat)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Rows) != 0 || !reflect.DeepEqual(f.Problems, []team.ImportProblem{tc.want}) {
				t.Fatalf("rows %v, problems %+v; want no row and %+v", f.Rows, f.Problems, tc.want)
			}
			for _, l := range []string{"en", "fr"} {
				if msg := cat.T(l, "import.not_utf8", nil); msg == "import.not_utf8" || !strings.Contains(msg, "UTF-8") {
					t.Errorf("%s: %q", l, msg)
				}
			}
		})
	}
}

// TestReadMembers_UTF8WithItsByteOrderMarkIsRead: the byte order mark that
// Excel's "CSV UTF-8" writes is taken off, and accents are read as written.
func TestReadMembers_UTF8WithItsByteOrderMarkIsRead(t *testing.T) {
	f, err := spreadsheet.ReadMembers(strings.NewReader("\ufeffE-mail;Prénom;Fonction\r\nzoe@x.example;Zoé;Ingénieur\r\n"), i18n.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	want := []team.ImportRow{{Line: 2, Cells: map[string]string{"email": "zoe@x.example", "first_name": "Zoé", "title": "Ingénieur"}}}
	if len(f.Problems) != 0 || !reflect.DeepEqual(f.Rows, want) {
		t.Fatalf("rows %+v, problems %+v", f.Rows, f.Problems)
	}
}

// TestReadMembers_AHeaderMatchesWhicheverApostropheItIsTypedWith: the
// French header "Envoyer l’invitation" is written with a typographic
// apostrophe; a person typing it writes the keyboard's.
func TestReadMembers_AHeaderMatchesWhicheverApostropheItIsTypedWith(t *testing.T) {
	for _, header := range []string{"Envoyer l’invitation", "Envoyer l'invitation", "ENVOYER L'INVITATION", "Send invitation"} {
		f, err := spreadsheet.ReadMembers(strings.NewReader("E-mail;"+header+"\r\nzoe@x.example;oui\r\n"), i18n.MustLoad())
		if err != nil {
			t.Fatal(err)
		}
		want := []team.ImportRow{{Line: 2, Cells: map[string]string{"email": "zoe@x.example", "send_invitation": "oui"}}}
		if len(f.Problems) != 0 || !reflect.DeepEqual(f.Rows, want) {
			t.Errorf("%s: rows %+v, problems %+v", header, f.Rows, f.Problems)
		}
	}
}
