package web

// meTab is a tab of a person's own space.
type meTab struct {
	Key, Path, Label string
}

// meTabs lists the pages of a person's own space, in the order of its tabs.
var meTabs = []meTab{
	{"profile", "/me", "me.nav.profile"},
	{"password", "/me/password", "me.nav.password"},
	{"email", "/me/email", "me.nav.email"},
	{"sessions", "/me/sessions", "me.nav.sessions"},
	{"security", "/me/security", "me.nav.security"},
	{"passkeys", "/me/passkeys", "me.nav.passkeys"},
	{"data", "/me/data", "me.nav.data"},
}
