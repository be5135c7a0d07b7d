package vpx

import (
	"os"
	"testing"
)

func TestDumpFrames(t *testing.T) {
	p := os.Getenv("VPX_DUMP")
	if p == "" {
		t.Skip()
	}
	f, _ := os.Create(p)
	defer f.Close()
	img := mustImage(t, 1280, 720)
	for i := range 60 {
		fillMoving(img, i)
		f.Write(img.Y)
		f.Write(img.U)
		f.Write(img.V)
	}
}
