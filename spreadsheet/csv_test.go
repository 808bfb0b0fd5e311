package spreadsheet_test

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe/spreadsheet"
)

func TestNeutralise_FormulaCellsGetAQuote(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+33 6 12": "'+33 6 12", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "Ada": "Ada", "a=b": "a=b", "'=1": "'=1", "é=": "é=",
		// Spreadsheets that trim a cell or drop its quotes see what follows.
		" =1+2": "' =1+2", "  -2+3": "'  -2+3", `"=HYPERLINK(1)`: `'"=HYPERLINK(1)`, ` "@x`: `' "@x`,
		`" +1"`: `'" +1"`, "  ": "  ", `"Ada"`: `"Ada"`, " Ada": " Ada", `""`: `""`,
	} {
		if got := spreadsheet.Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
		if spreadsheet.Formula(in) != (want != in) {
			t.Errorf("Formula(%q) = %v", in, !(want != in))
		}
	}
}

func TestWriter_BOMCRLFQuotingAndNeutralisedCells(t *testing.T) {
	var b bytes.Buffer
	w, err := spreadsheet.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write("email", "name")
	w.Write("a@b.example", `=HYPERLINK("http://evil.example","x"), "quoted"`)
	w.Write("c@d.example", "line\nbreak; semi")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "\ufeffemail,name\r\n") {
		t.Fatalf("no BOM or CRLF: %q", out)
	}
	r, _ := spreadsheet.NewReader(strings.NewReader(out))
	r.ReuseRecord = false
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"email", "name"}, {"a@b.example", `'=HYPERLINK("http://evil.example","x"), "quoted"`}, {"c@d.example", "line\nbreak; semi"}}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d: %q, want %q", i, rows[i], want[i])
		}
	}
}

func TestReader_BOMAndSeparatorDetected(t *testing.T) {
	cases := map[string]string{
		"comma, no BOM":         "email,first name\r\nada@b.example,Ada\r\n",
		"comma with BOM":        "\ufeffemail,first name\nada@b.example,Ada\n",
		"semicolon with BOM":    "\ufeffemail;first name\r\nada@b.example;Ada\r\n",
		"semicolon, quoted ,":   "\"email, login\";first name\nada@b.example;Ada\n",
		"comma, quoted ;":       "\"email; login\",first name\nada@b.example,Ada\n",
		"one column, no header": "ada@b.example\n",
	}
	for name, in := range cases {
		r, err := spreadsheet.NewReader(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		var rows [][]string
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rows = append(rows, slices.Clone(rec))
		}
		last := rows[len(rows)-1]
		if last[0] != "ada@b.example" || len(rows) > 1 && (len(last) != 2 || last[1] != "Ada") {
			t.Errorf("%s: %q", name, rows)
		}
		if strings.HasPrefix(rows[0][0], "\ufeff") {
			t.Errorf("%s: the BOM was read as data", name)
		}
	}
}
