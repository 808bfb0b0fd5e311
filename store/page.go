package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/equipe-dev/equipe"
)

// keyset writes the end of a list's query for a page (see equipe.Page):
// the position after the previous page's last item, as a row comparison on
// the order's columns (which an index on them serves on both engines), the
// order, and at most n rows (0: every row; see readRows). cols are the order's
// columns, the last one unique among the list's rows; from holds their
// values for the previous page's last item (nil for the first page); desc
// reverses every column. The query must end with its WHERE clause.
func keyset(args *[]any, cols []string, desc bool, from []any, n int) string {
	arg := func(v any) string {
		*args = append(*args, v)
		return "$" + itoa(len(*args))
	}
	var b strings.Builder
	if from != nil {
		ps := make([]string, len(from))
		for i, v := range from {
			ps[i] = arg(v)
		}
		op := " > "
		if desc {
			op = " < "
		}
		b.WriteString(" AND (" + strings.Join(cols, ", ") + ")" + op + "(" + strings.Join(ps, ", ") + ")")
	}
	b.WriteString(" ORDER BY ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c)
		if desc {
			b.WriteString(" DESC")
		}
	}
	if n > 0 {
		b.WriteString(" LIMIT " + arg(n))
	}
	return b.String()
}

// readRows is how many rows a page reads: one more than it shows, to learn
// whether another page follows; 0 (every row) for a whole list.
func readRows(p equipe.Page) int {
	if p.Whole() {
		return 0
	}
	return p.Limit + 1
}

// Parts of a cursor's key, written by the lists and read back by them.
func keyTime(t time.Time) string { return strconv.FormatInt(micros(t), 10) }
func keyID(id equipe.ID) string  { return id.String() }

// part is the kind of a part of a cursor's key.
type part int

const (
	text   part = iota // a text column
	number             // a number column (times are microseconds: keyTime)
	id                 // an ID
)

// after reads the page's cursor of list as keyset takes it: nil for the
// first page, else its key's parts, each read as its kind says. A cursor
// of another list, or whose parts do not read, answers equipe.ErrCursor.
func after(p equipe.Page, list string, kinds ...part) ([]any, error) {
	k, err := p.Key(list, len(kinds))
	if k == nil || err != nil {
		return nil, err
	}
	out := make([]any, len(k))
	for i, kind := range kinds {
		switch kind {
		case text:
			out[i] = k[i]
		case number:
			if out[i], err = equipe.CursorInt(k[i]); err != nil {
				return nil, err
			}
		case id:
			if out[i], err = equipe.CursorID(k[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
