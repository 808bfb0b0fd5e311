package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/equipe-dev/equipe"
)

// Times are stored as microseconds since the Unix epoch, NULL for "never".

// tv returns the stored form of t: NULL for the zero time.
func tv(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// micros returns the stored form of a time that is never zero.
func micros(t time.Time) int64 { return t.UnixMicro() }

// ts scans a stored time into *t (the zero time for NULL).
func ts(t *time.Time) *timeScanner { return &timeScanner{t} }

type timeScanner struct{ t *time.Time }

func (s *timeScanner) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.t = time.Time{}
	case int64:
		*s.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("store: time column holds %T", v)
	}
	return nil
}

// zeroNever returns the stored form of a time kept as 0 for "never" (see
// orNever).
func zeroNever(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// orNever scans a time stored as 0 for "never" (a column that sorts alike
// on both engines, where NULL would not) into the zero time.
func orNever(t *time.Time) *neverScanner { return &neverScanner{t} }

type neverScanner struct{ t *time.Time }

func (s *neverScanner) Scan(v any) error {
	if n, ok := v.(int64); ok && n == 0 {
		*s.t = time.Time{}
		return nil
	}
	return (&timeScanner{s.t}).Scan(v)
}

// idv returns the stored form of an optional ID.
func idv(id *equipe.ID) any {
	if id == nil {
		return nil
	}
	return id.String()
}

// someID returns the stored form of an ID that may be zero: NULL for zero.
func someID(id equipe.ID) any {
	if id == (equipe.ID{}) {
		return nil
	}
	return id.String()
}

// idp scans an optional ID into *p (nil for NULL).
func idp(p **equipe.ID) *idScanner { return &idScanner{p} }

type idScanner struct{ p **equipe.ID }

func (s *idScanner) Scan(v any) error {
	var n uuid.NullUUID
	if err := n.Scan(v); err != nil {
		return err
	}
	if !n.Valid {
		*s.p = nil
		return nil
	}
	id := n.UUID
	*s.p = &id
	return nil
}

// str returns NULL for the empty string, for optional text columns.
func str(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

// nstr scans optional text into *s ("" for NULL).
func nstr(s *string) *strScanner { return &strScanner{s} }

type strScanner struct{ s *string }

func (n *strScanner) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*n.s = ""
	case string:
		*n.s = v
	case []byte:
		*n.s = string(v)
	default:
		return fmt.Errorf("store: text column holds %T", v)
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// jsonText returns the stored form of a list: a JSON array ("[]" for none).
func jsonText[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("store: " + err.Error()) // plain structs of strings and bools always encode
	}
	return string(b)
}

// jsonOf scans a JSON array column into *v.
func jsonOf[T any](v *[]T) *jsonScanner[T] { return &jsonScanner[T]{v} }

type jsonScanner[T any] struct{ v *[]T }

func (s *jsonScanner[T]) Scan(src any) error {
	var b []byte
	switch src := src.(type) {
	case nil:
		*s.v = nil
		return nil
	case string:
		b = []byte(src)
	case []byte:
		b = src
	default:
		return fmt.Errorf("store: JSON column holds %T", src)
	}
	*s.v = nil
	if len(b) == 0 || string(b) == "[]" || string(b) == "{}" {
		return nil
	}
	return json.Unmarshal(b, s.v)
}

// prefixed qualifies every column of a column list with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
