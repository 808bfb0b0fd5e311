// Package metrics exposes the service's metrics in the Prometheus text
// format: the HTTP requests by route pattern and status with their
// latency, read by the server as they are answered; the checks by
// decision, the logins by outcome, the outbox, the email deliveries, the
// database's connection pools and the permission cache, read from the use
// cases' own counters when the metrics are scraped; and the Go runtime and
// process. Labels hold route patterns, statuses and fixed outcome names,
// never anything a user typed. docs/operations.md lists every metric.
package metrics
