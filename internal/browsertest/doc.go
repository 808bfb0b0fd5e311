// Package browsertest starts a real headless Chromium for page tests, driven
// through the DevTools protocol by chromedp. Without Chromium the test is
// skipped, or failed when EQUIPE_TEST_REQUIRE names browser (as in CI).
package browsertest
