// Package httpauth carries who is asking through HTTP requests: it reads the
// session from its cookie or from an "Authorization: Bearer" header, resolves
// the client's address (trusting X-Forwarded-For only from configured
// proxies), and puts both in the request's context for the web UI and the
// JSON API.
package httpauth
