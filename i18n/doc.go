// Package i18n holds the French and English message catalogues shared by the
// web UI, the JSON API and the emails' surroundings, and picks a reader's
// language. Messages are looked up by stable keys (for example
// "email.invalid"); the API returns the same keys as error codes.
package i18n
