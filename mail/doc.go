// Package mail writes and delivers equipe's emails. Templates renders an
// email (subject, plain text and HTML, in French or English) when the
// change that causes it happens, so that the use case can put it in the
// outbox in the same transaction as the change; Worker then delivers the
// outbox through a Sender — SMTPSender for a real server, DevMailbox when
// none is configured — retrying failures with back-off, abandoning an email
// after a bound with its error kept, and recovering the emails of a worker
// that died. Delivery is at least once: an email sent again after a crash
// carries the same Message-ID, and its one-time link is the one already
// stored.
//
// # Templates
//
// Each email is one file per locale, {name}.{locale}.tmpl (invitation.fr.tmpl),
// defining three blocks: "subject" and "text", rendered with text/template,
// and "html", rendered with html/template inside the shared layout. The
// files layout.tmpl (the frame, the button and the product's name) and
// common.{locale}.tmpl (greeting, link validity, footer, spam hint, quoted
// message) hold what every email shares. A vendor overrides any of these by
// giving NewTemplates a folder holding files of the same names. Templates
// receive a View: the fields of Data plus To, Lang, ValidFor ("7 jours"),
// Subject and PublicURL; the functions action, lines and quote are
// available. Data never reaches a template unescaped in HTML, and is never
// evaluated as a template.
package mail
