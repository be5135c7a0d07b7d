// Package apps is the applications catalogue: what a session's app names
// and how a streamer runs it. The gateway lists it at GET /1.0/applications
// and refuses a session for an app not in it; the streamer looks the
// session's app up to know what to launch. Both load the same catalogue:
// the built-ins (Default) or a JSON file (Load, the --apps-file setting).
//
// Two kinds: "pattern" streams the built-in test pattern; "x11" runs
// Command inside a private Xvfb display of the session's size and streams
// that display. See docs/apps.md.
package apps
