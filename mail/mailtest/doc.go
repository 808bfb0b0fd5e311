// Package mailtest runs a real SMTP server in the test process, listening on
// loopback over TCP, that records what it receives. Tests of code that sends
// email point an SMTP sender at it, stop and restart it to simulate an
// outage, make it refuse messages with a chosen reply code, or serve
// STARTTLS or implicit TLS with a self-signed certificate.
package mailtest
