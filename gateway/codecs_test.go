package gateway

import (
	"net/http"
	"slices"
	"testing"
)

func TestCreateVideoCodecs(t *testing.T) {
	g := newTestGW(t)
	var c created
	g.call(http.MethodPost, "/1.0/sessions", map[string]any{
		"app": "test-pattern", "video_codecs": []string{"h264", " VP8", "H264"},
	}).ok(t, http.StatusCreated, &c)
	if !slices.Equal(c.VideoCodecs, []string{"H264", "VP8"}) {
		t.Fatalf("video_codecs %v, want [H264 VP8]", c.VideoCodecs)
	}
	var none created
	g.call(http.MethodPost, "/1.0/sessions", map[string]any{"app": "test-pattern"}).ok(t, http.StatusCreated, &none)
	if none.VideoCodecs != nil {
		t.Fatalf("no preference stored as %v", none.VideoCodecs)
	}
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"test-pattern","video_codecs":["AV1"]}`).
		fails(t, http.StatusBadRequest, "video_codecs", "AV1")
}
