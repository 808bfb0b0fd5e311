// Package testenv tells tests which outside components they may skip without:
// PostgreSQL and Chromium are optional on a developer's machine and mandatory
// in CI, where EQUIPE_TEST_REQUIRE=postgres,browser is set.
package testenv
