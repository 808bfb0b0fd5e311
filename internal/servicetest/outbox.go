package servicetest

import (
	"database/sql"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/equipe-dev/equipe"
	"github.com/equipe-dev/equipe/mail"
)

// What the use cases leave behind, read from the tables as stored (raw is
// storetest.Raw of the database): the emails they queued, the one-time
// links they made, and the codes they answer.

// Mail is an email of the outbox.
type Mail struct{ To, Template, Text string }

// Mails returns the emails queued to `to`, oldest first. They keep their
// bodies while queued, as they stay in a Stack, where no worker sends them:
// once sent, an email's bodies are emptied (its links must not outlive it).
func Mails(t testing.TB, raw *sql.DB, to string) []Mail {
	t.Helper()
	rows, err := raw.Query(`SELECT recipient, template, body_text FROM outbox WHERE recipient = $1 ORDER BY id`, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Mail
	for rows.Next() {
		var m Mail
		if err := rows.Scan(&m.To, &m.Template, &m.Text); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Templates returns the templates of the emails queued to `to`, oldest
// first.
func Templates(t testing.TB, raw *sql.DB, to string) []string {
	t.Helper()
	var out []string
	for _, m := range Mails(t, raw, to) {
		out = append(out, m.Template)
	}
	return out
}

// Secret returns the secret of the link under path ("/invitations/") in
// the newest email to `to` that has one, failing the test if none has.
func Secret(t testing.TB, raw *sql.DB, to, under string) string {
	t.Helper()
	ms := Mails(t, raw, to)
	for i := len(ms) - 1; i >= 0; i-- {
		for _, l := range mail.Links(ms[i].Text, "") {
			if u, err := url.Parse(l); err == nil && strings.HasPrefix(u.Path, under) {
				return path.Base(u.Path)
			}
		}
	}
	t.Fatalf("no email to %s has a link under %s (%v)", to, under, Templates(t, raw, to))
	return ""
}

// Tokens returns how many one-time links of kind the user has, and how
// many of them are still usable: neither used nor replaced.
func Tokens(t testing.TB, raw *sql.DB, user equipe.ID, kind equipe.TokenKind) (all, usable int) {
	t.Helper()
	err := raw.QueryRow(`SELECT COUNT(*), COUNT(CASE WHEN used_at IS NULL AND superseded_at IS NULL THEN 1 END)
		FROM tokens WHERE user_id = $1 AND kind = $2`, user, string(kind)).Scan(&all, &usable)
	if err != nil {
		t.Fatal(err)
	}
	return all, usable
}

// Key returns the key of a use case's answer, "" for none; the field
// errors of an EINVALID answer follow its key: "error.fields role=role.unknown".
func Key(err error) string {
	if err == nil {
		return ""
	}
	e := equipe.AsError(err)
	k := e.Key
	for _, f := range e.Fields {
		k += " " + f.Field + "=" + f.Key
	}
	return k
}
