// Package web serves equipe's pages: server-rendered HTML that works without
// JavaScript, in French and English, with one small stylesheet. Every route
// is listed once, in routes; each page action lives in a file of its own;
// templates are parsed at start, one set per language, with the message
// function t bound to that language.
//
// Forms post to the page that shows them. A form with problems is shown
// again with status 422, each message next to its field (aria-describedby,
// aria-invalid), a summary at the top linking to the fields, and the focus
// on the first field with a problem.
//
// An action that sends an email or takes something away (inviting,
// re-inviting, activating, resetting a password, suspending, removing)
// first shows what it will do on a page of its own: opening that page
// changes nothing, and only its button's POST acts. Pages decide nothing
// about permissions: they offer the actions the use cases answer as allowed
// for the reader (team.Actions), explain a refusal with the code the use
// case gives, and the use case judges the action again when it is taken.
package web
