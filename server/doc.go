// Package server assembles equipe's HTTP service: the web UI, the JSON API,
// the development mailbox, health checks, and the middleware every request
// passes through — panic recovery, an access log without secrets, security
// headers, cross-origin (CSRF) protection and session resolution.
package server
