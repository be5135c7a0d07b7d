// Package web owns the static web client and the JavaScript SDK the gateway
// serves outside /1.0/: the page at / that lists applications, starts or
// joins a session and plays it with input, and the SDK at
// /sdk/streamstack.js (with /sdk/input.js, which it imports; types in
// /sdk/streamstack.d.ts) it is built on, which pages on other sites import
// too.
//
// The files are plain ES modules, CSS and HTML embedded with go:embed: no
// build step, nothing to install. Handler serves them with ETags. The
// package must not talk to NATS or know the API beyond what the browser
// code calls over HTTP.
package web
