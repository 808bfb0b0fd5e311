// Package spreadsheet writes and reads the CSV files people open in a
// spreadsheet: the exports of an account's members and audit log, and the
// members file an import reads.
//
// Files are RFC 4180 (encoding/csv, CRLF line ends) in UTF-8 with a byte
// order mark, which spreadsheets need to read UTF-8. A written cell that a
// spreadsheet would take for a formula (one starting with =, +, -, @, a tab
// or a carriage return) is neutralised as OWASP advises, by a leading
// single quote: data typed by one person cannot run in another's
// spreadsheet. Reading accepts a file with or without the mark, separated
// by commas or by semicolons (what spreadsheets set to French write).
//
// The package renders use cases' answers and reads files for them; it
// decides nothing.
package spreadsheet
