package spreadsheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"strings"
)

// bom is UTF-8's byte order mark, which tells a spreadsheet the file is
// UTF-8.
const bom = "\ufeff"

// Writer writes a CSV file a row at a time, through a buffer of its own:
// what it holds does not grow with the file.
type Writer struct {
	csv *csv.Writer
	row []string
}

// NewWriter starts a file on w with the byte order mark.
func NewWriter(w io.Writer) (*Writer, error) {
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, err
	}
	c := csv.NewWriter(w)
	c.UseCRLF = true
	return &Writer{csv: c}, nil
}

// Write writes one row, each cell neutralised (see Neutralise).
func (w *Writer) Write(cells ...string) error {
	w.row = w.row[:0]
	for _, c := range cells {
		w.row = append(w.row, Neutralise(c))
	}
	return w.csv.Write(w.row)
}

// Flush writes what the buffer holds and returns the first error met.
func (w *Writer) Flush() error {
	w.csv.Flush()
	return w.csv.Error()
}

// Neutralise returns the cell as a spreadsheet shows it without running
// it: a cell starting with =, +, -, @, a tab or a carriage return gets a
// leading single quote (OWASP, "CSV Injection"). So does one where that
// character follows spaces or double quotes: some spreadsheets trim a
// cell's spaces, or drop its quotes, before they read it.
func Neutralise(cell string) string {
	for i := 0; i < len(cell); i++ {
		switch cell[i] {
		case ' ', '"':
			continue
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + cell
		}
		break
	}
	return cell
}

// Formula reports whether a cell read from a file would be taken for a
// formula by a spreadsheet (see Neutralise): an import refuses it.
func Formula(cell string) bool {
	return cell != "" && Neutralise(cell) != cell
}

// NewReader returns a reader of the CSV file r: the byte order mark, if
// any, skipped; the separator, a comma or a semicolon, taken from the first
// line (the one of the two it holds more of outside quotes). Rows may have
// different lengths; the caller checks them.
func NewReader(r io.Reader) (*csv.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, err := br.Peek(len(bom)); err == nil && string(head) == bom {
		br.Discard(len(bom))
	}
	// The first line, as far as the buffer holds it, without consuming it.
	peek, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(peek, '\n'); i >= 0 {
		peek = peek[:i]
	}
	c := csv.NewReader(br)
	c.Comma = separator(string(peek))
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	return c, nil
}

// separator returns the comma or the semicolon, whichever the line holds
// more of outside quoted fields (the comma on a tie).
func separator(line string) rune {
	commas, semis, quoted := 0, 0, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == ',':
			commas++
		case r == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// trimBOM is strings.TrimPrefix of the byte order mark: a file saved twice
// may carry it in its first cell.
func trimBOM(s string) string { return strings.TrimPrefix(s, bom) }
