// Package problem is the one table from the domain's error codes to HTTP
// statuses and RFC 9457 problem types. The pages and the JSON API both
// answer a use case's error with the status it gives, so that they never
// disagree on what an error is.
//
// A use case answers an *equipe.Error with a Code (EINVALID, ENOTFOUND,
// ECONFLICT, EFORBIDDEN, EUNAUTHORIZED, ECONSENT, ERATELIMITED, EGONE,
// EUNAVAILABLE, EINTERNAL) and a message key. The API writes the problem
// type TypePrefix+Type(code) with Status(code) and the key as its "code";
// the pages show their error page with the same status (and, for a conflict
// or invalid input, the key's own message). A code the table does not know is
// an internal error (500), never a success.
package problem
