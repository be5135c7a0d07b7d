package pattern

import (
	"errors"
	"testing"

	"github.com/streamstack/streamstack/internal/yuv"
)

// A resized generator draws decodable frames of the new size and keeps
// the pointer; a bad size leaves it as it was.
func TestResize(t *testing.T) {
	g, _ := newPair(t, 1280, 720)
	g.SetCursor(100, 100, true)
	for _, sz := range [][2]int{{1920, 1080}, {640, 360}, {1280, 720}} {
		if err := g.Resize(sz[0], sz[1]); err != nil {
			t.Fatalf("resize %v: %v", sz, err)
		}
		if w, h := g.Size(); w != sz[0] || h != sz[1] {
			t.Fatalf("size %dx%d after resize to %v", w, h, sz)
		}
		img, err := yuv.NewImage(sz[0], sz[1])
		if err != nil {
			t.Fatal(err)
		}
		g.Draw(img, 7, captures[1])
		st, err := Decode(img)
		if err != nil || st != NewStamp(7, captures[1]) {
			t.Fatalf("%v: decode %+v, %v", sz, st, err)
		}
	}
	if err := g.Resize(641, 360); !errors.Is(err, yuv.ErrBadDimensions) {
		t.Fatalf("odd width: %v", err)
	}
	if w, h := g.Size(); w != 1280 || h != 720 {
		t.Fatalf("a refused resize changed the size to %dx%d", w, h)
	}
	if g.cursor.Load()&cursorVisible == 0 {
		t.Fatal("the pointer was lost in the resize")
	}
}
