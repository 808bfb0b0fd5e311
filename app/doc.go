// Package app wires equipe together: from a Config it opens the database,
// runs migrations, builds the use cases, the mail worker and the HTTP
// service, and runs them until told to stop. cmd/equipe and the end-to-end
// tests both start the service through it.
package app
