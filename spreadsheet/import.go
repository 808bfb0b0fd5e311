package spreadsheet

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/equipe-dev/equipe/i18n"
	"github.com/equipe-dev/equipe/team"
)

// exportOnly are columns of a members export that an import ignores, so
// that an export, edited, can be imported back.
var exportOnly = []string{"status", "joined_at", "last_login_at", "created_at"}

// columnNames maps every name a members file may give a column (its key,
// its header in English and in French, folded by team.ImportFold) to the
// column's key.
func columnNames(cat *i18n.Catalog) map[string]string {
	names := map[string]string{}
	for _, cols := range [][]string{team.ImportColumns, exportOnly} {
		for _, c := range cols {
			names[team.ImportFold(c)] = c
			names[team.ImportFold(strings.ReplaceAll(c, "_", " "))] = c
			for _, l := range []string{"en", "fr"} {
				names[team.ImportFold(strings.TrimSuffix(cat.T(l, "csv.member."+c, nil), " (UTC)"))] = c
				names[team.ImportFold(cat.T(l, "csv.member."+c, nil))] = c
			}
		}
	}
	return names
}

// ReadMembers reads a members file: UTF-8 with or without a byte order
// mark, separated by commas or semicolons, RFC 4180 quoting. A file that
// is not UTF-8 (Excel's "CSV (semicolon delimited)" writes Windows-1252)
// is refused as a whole, with one problem at the first line that is not,
// rather than read as broken names or problems quoting broken bytes. Its first
// line names the columns (see team.ImportColumns), by key or by header in
// either language. Empty lines are skipped. A cell a spreadsheet would run
// (starting with =, +, -, @, a tab or a carriage return) is a problem of
// its line and column, unless an export neutralised it with a leading
// quote, which is taken off. It reads at most team.MaxImportRows + 1 rows
// (one more says the file is too long).
func ReadMembers(r io.Reader, cat *i18n.Catalog) (team.ImportFile, error) {
	var f team.ImportFile
	c, err := NewReader(r)
	if err != nil {
		return f, err
	}
	header, err := c.Read()
	if errors.Is(err, io.EOF) {
		return f, nil
	}
	if err != nil {
		return malformed(f, err), nil
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			return notUTF8(1, ""), nil
		}
	}
	names := columnNames(cat)
	cols := make([]string, len(header))
	have := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(trimBOM(h))
		key, ok := names[team.ImportFold(h)]
		switch {
		case h == "":
		case !ok:
			f.Problems = append(f.Problems, team.ImportProblem{Line: 1, Column: h, Key: "import.column_unknown"})
		case have[key]:
			f.Problems = append(f.Problems, team.ImportProblem{Line: 1, Column: key, Key: "import.column_twice"})
		default:
			have[key] = true
			if !isExportOnly(key) {
				cols[i] = key
			}
		}
	}
	if !have["email"] {
		f.Problems = append(f.Problems, team.ImportProblem{Line: 1, Column: "email", Key: "import.column_missing"})
	}
	for {
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return malformed(f, err), nil
		}
		line, _ := c.FieldPos(0)
		for i, cell := range rec {
			if !utf8.ValidString(cell) {
				col := ""
				if i < len(cols) {
					col = cols[i]
				}
				return notUTF8(line, col), nil
			}
		}
		row := team.ImportRow{Line: line, Cells: make(map[string]string, len(cols))}
		empty := true
		for i, cell := range rec {
			if strings.TrimSpace(cell) != "" {
				empty = false
			}
			if i >= len(cols) {
				if strings.TrimSpace(cell) != "" {
					f.Problems = append(f.Problems, team.ImportProblem{Line: line, Key: "import.cells_beyond_columns"})
				}
				continue
			}
			if cols[i] == "" {
				continue
			}
			switch {
			case len(cell) > 1 && cell[0] == '\'' && Formula(cell[1:]):
				cell = cell[1:] // neutralised by an export
			case Formula(cell):
				f.Problems = append(f.Problems, team.ImportProblem{Line: line, Column: cols[i], Key: "import.formula"})
			}
			row.Cells[cols[i]] = cell
		}
		if empty {
			continue
		}
		f.Rows = append(f.Rows, row)
		if len(f.Rows) > team.MaxImportRows {
			return f, nil
		}
	}
}

func isExportOnly(key string) bool {
	for _, c := range exportOnly {
		if c == key {
			return true
		}
	}
	return false
}

// notUTF8 is a file refused for a line (and, when known, a column) that
// is not UTF-8: that one problem, and no row.
func notUTF8(line int, column string) team.ImportFile {
	return team.ImportFile{Problems: []team.ImportProblem{{Line: line, Column: column, Key: "import.not_utf8"}}}
}

// malformed adds the problem of a file encoding/csv cannot read on.
func malformed(f team.ImportFile, err error) team.ImportFile {
	line := 1
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line = pe.Line
	}
	f.Problems = append(f.Problems, team.ImportProblem{Line: line, Key: "import.malformed"})
	return f
}
