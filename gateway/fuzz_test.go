package gateway

import (
	"net/http"
	"testing"

	"github.com/streamstack/streamstack/apps"
)

// bodySeeds are create, join and list bodies as clients send them, and
// the shapes that broke parsers before: numbers as strings, nulls, deep
// nesting, huge numbers, unknown fields.
var bodySeeds = []string{
	`{"app":"test-pattern"}`,
	`{"app":"xterm","screen":{"width":1920,"height":1080,"fps":60,"density":240},"joinable":true,"idle_time_min":5}`,
	`{"app":"test-pattern","app_version":"3","region":"local","video_codecs":["H264","VP8"],"extra_data":{"a":[1,2]}}`,
	`{"app":"test-pattern","screen":{"width":-2,"height":1e309}}`,
	`{"app":null,"screen":null}`,
	`{"screen":{"width":1280,"height":720}}`,
	`{"status":"active","limit":10,"offset":2,"recursive":true}`,
	`{"limit":10,"cursor":"01k2m3n4p5abcdefghij~3"}`,
	`{"cursor":["x"],"limit":"1"}`,
	`{"id":"../../x"}`,
	`{"session":"s1","types":["session.created","session.>"],"from_start":true}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	`{"app":"` + "\u0000\u202e" + `"}`,
	``,
	`nul`,
}

// Whatever a client sends as a create, join or list body, over HTTP or the
// NATS service, the answer is a client error (4xx) or a valid request:
// never a panic, never a server error.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add([]byte(s))
	}
	// Validation needs the config and the catalogue only: no NATS, so
	// every fuzz worker starts at once.
	cfg := DefaultConfig()
	cfg.Apps = apps.Default()
	srv := &Server{cfg: cfg}
	f.Fuzz(func(t *testing.T, data []byte) {
		var create CreateRequest
		if err := decodeJSON(data, &create, false); err != nil {
			clientError(t, "create body", err)
		} else if _, err := srv.newSession(create); err != nil {
			clientError(t, "create request", err)
		}
		var join JoinRequest
		if err := decodeJSON(data, &join, true); err != nil {
			clientError(t, "join body", err)
		}
		var list ListQuery
		if err := decodeJSON(data, &list, true); err != nil {
			clientError(t, "list body", err)
		}
		var id idRequest
		if err := decodeJSON(data, &id, false); err != nil {
			clientError(t, "id body", err)
		}
		var events EventsRequest
		if err := decodeJSON(data, &events, true); err != nil {
			clientError(t, "events body", err)
		}
	})
}

func clientError(t *testing.T, what string, err error) {
	t.Helper()
	if code := statusOf(err); code < http.StatusBadRequest || code >= http.StatusInternalServerError {
		t.Fatalf("%s: %v answers %d, want a client error", what, err, code)
	}
}
