// Package testenv tells tests which outside components they may skip
// without: PostgreSQL and Chromium are optional on a developer's machine and
// mandatory in CI, where EQUIPE_TEST_REQUIRE=postgres,browser is set. It
// also gives tests one way to wait for a state they expect: Await, woken by
// a Signal that the code under test fires when something happens, or Every
// while for a state outside the test's process.
package testenv
