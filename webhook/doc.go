// Package webhook delivers change events to the endpoints that subscribe to
// them, signed as the Standard Webhooks specification says
// (https://www.standardwebhooks.com): the headers webhook-id,
// webhook-timestamp and webhook-signature, the signature being "v1," and
// the base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" under the secret that
// follows "whsec_" (several, separated by spaces, while a secret is being
// rotated).
//
// The deliveries are written with their events, in the events'
// transactions (store.Writes.RecordAudit). The Worker claims those that are
// due, makes each message from its event as the endpoint's owner may read
// it (Viewer), signs them, POSTs them and records each attempt, retrying failures
// on a schedule that spans more than a day; a delivery that fails
// throughout is abandoned, and an endpoint none of whose deliveries
// succeeded meanwhile is disabled and its owners told by email.
//
// Requests go only to public addresses: the client refuses, in its dialer,
// after the name is resolved, every private, loopback (unless the instance
// allows http to loopback), link-local, unspecified, multicast, CGNAT and
// unique-local address, so that neither a DNS answer that changes between
// the check and the connection nor a redirect (never followed) reaches an
// internal service.
package webhook
