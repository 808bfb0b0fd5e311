package equipe

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// Page sizes of every list.
const (
	// DefaultPage is the size of a page a caller does not choose.
	DefaultPage = 50
	// MaxPage is the most items a page of any list holds.
	MaxPage = 200
)

// Page asks for a page of a list: the items after a cursor, at most Limit
// of them. Lists are read by keyset (the cursor holds the sort key of the
// previous page's last item), so a page deep into a long list costs what
// the first one does.
type Page struct {
	// After is the cursor of the previous page's end (its NextCursor); ""
	// for the first page.
	After string
	// Limit is the most items, 1 to MaxPage. 0 asks for the whole list, and
	// only the use cases of lists that stay small (roles, contacts, keys,
	// webhooks, a person's sessions…) accept it, for the pages that show
	// them whole.
	Limit int
}

// Whole reports whether the page asks for the whole list.
func (p Page) Whole() bool { return p.Limit == 0 }

// Check refuses a page size outside 1 to MaxPage with EBADREQUEST, the
// field "limit" at fault.
func (p Page) Check() error {
	if p.Limit < 1 || p.Limit > MaxPage {
		return &Error{Code: EBADREQUEST, Key: "error.fields", Fields: []FieldError{{Field: "limit",
			Key: "request.limit_invalid", Args: map[string]any{"max": MaxPage}}}}
	}
	return nil
}

// CheckOrWhole is Check, except that it accepts the whole list.
func (p Page) CheckOrWhole() error {
	if p.Whole() {
		return nil
	}
	return p.Check()
}

// ParsePage reads a page as a query string gives it: limit absent is
// DefaultPage; anything but a whole number from 1 to MaxPage answers
// EBADREQUEST with the field "limit". The cursor is checked by the list
// that reads it (Page.Key).
func ParsePage(cursor, limit string) (Page, error) {
	p := Page{After: cursor, Limit: ParseLimit(limit, DefaultPage)}
	return p, p.Check()
}

// ParseLimit reads a page size as a query string gives it: absent is def,
// anything but a whole number is 0, which every list refuses.
func ParseLimit(s string, def int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// cursor is a cursor's content: the list it belongs to, so that a cursor of
// another list is refused rather than read as a position, and the sort key
// of the last item, each part as text.
type cursor struct {
	List string   `json:"l"`
	Key  []string `json:"k"`
}

// Cursor returns the cursor that follows the item with key in list: an
// opaque string (base64url of a small JSON document) that Page.Key reads
// back.
func Cursor(list string, key ...string) string {
	b, _ := json.Marshal(cursor{List: list, Key: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Key returns the sort key the page's cursor holds for list, n parts long,
// or nil for the first page. A cursor that is not one of list's answers
// EBADREQUEST with the field "cursor" (ErrCursor).
func (p Page) Key(list string, n int) ([]string, error) {
	if p.After == "" {
		return nil, nil
	}
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(p.After)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.List != list || len(c.Key) != n {
		return nil, ErrCursor()
	}
	return c.Key, nil
}

// ErrCursor is the refusal of a cursor that is malformed or belongs to
// another list: EBADREQUEST with the field "cursor".
func ErrCursor() error {
	return &Error{Code: EBADREQUEST, Key: "error.fields", Fields: []FieldError{{Field: "cursor", Key: "request.cursor_invalid"}}}
}

// CursorID reads an ID out of a cursor's key, or answers ErrCursor.
func CursorID(s string) (ID, error) {
	id, err := ParseID(s)
	if err != nil {
		return ID{}, ErrCursor()
	}
	return id, nil
}

// CursorInt reads a number out of a cursor's key, or answers ErrCursor.
func CursorInt(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrCursor()
	}
	return n, nil
}

// Cut ends a page read with one item more than p.Limit (to learn whether
// another page follows): it returns the page's items and the cursor of the
// next page, "" when this one is the last. key gives an item's sort key.
// A whole list is returned as it is.
func Cut[T any](items []T, p Page, list string, key func(T) []string) ([]T, string) {
	if p.Whole() || len(items) <= p.Limit {
		return items, ""
	}
	items = items[:p.Limit]
	return items, Cursor(list, key(items[len(items)-1])...)
}

// KeyID reads the cursor of a list whose key is an ID alone (the lists
// ordered by their time-ordered IDs): nil for the first page.
func (p Page) KeyID(list string) (*ID, error) {
	k, err := p.Key(list, 1)
	if k == nil || err != nil {
		return nil, err
	}
	id, err := CursorID(k[0])
	if err != nil {
		return nil, err
	}
	return &id, nil
}
