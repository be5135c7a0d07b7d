package pattern

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
)

// Motion per frame. Even values keep luma and chroma aligned, so the
// chroma planes can scroll by exactly half as much.
const (
	scrollPx = 4
	boxDX    = 6
	boxDY    = 4
)

// 100% colour bars in BT.601 limited range: white, yellow, cyan, green,
// magenta, red, blue, black.
var bars = [8][3]byte{
	{235, 128, 128}, {210, 16, 146}, {170, 166, 16}, {145, 54, 34},
	{106, 202, 222}, {81, 90, 240}, {41, 240, 110}, {16, 128, 128},
}

// Generator draws the moving test picture. Draw must be called from one
// goroutine at a time; SetCursor and SetPressed may be called from any.
type Generator struct {
	width, height int
	block         int // strip block size B
	barsEnd       int // first luma row of the ramp band
	boxSize       int

	// Scroll sources are two periods long so any offset is one copy().
	barsY, barsU, barsV []byte
	rampY               []byte
	grey                []byte // chroma 128, one chroma row long
	boxY, boxU, boxV    []byte // one box row per plane

	cursor atomic.Uint64 // see cursor.go for the packing
}

// New returns a generator for width×height frames. Sizes must be even
// and large enough for the strip (at least 320×4).
func New(width, height int) (*Generator, error) {
	if width <= 0 || height <= 0 || width%2 != 0 || height%2 != 0 {
		return nil, fmt.Errorf("pattern: %dx%d: %w", width, height, yuv.ErrBadDimensions)
	}
	if err := checkStripFits(width, height); err != nil {
		return nil, err
	}
	g := &Generator{
		width:   width,
		height:  height,
		block:   blockSize(width),
		barsEnd: (height * 3 / 4) &^ 1,
		boxSize: max(2, (height/6)&^1),
	}
	cw := width / 2
	g.barsY = make([]byte, 2*width)
	g.rampY = make([]byte, 2*width)
	for x := range g.barsY {
		g.barsY[x] = bars[(x%width)*8/width][0]
		g.rampY[x] = byte(lumaBlack + (x%width)*(lumaWhite-lumaBlack)/width)
	}
	g.barsU = make([]byte, 2*cw)
	g.barsV = make([]byte, 2*cw)
	for x := range g.barsU {
		bar := bars[(x%cw)*2*8/width]
		g.barsU[x], g.barsV[x] = bar[1], bar[2]
	}
	g.grey = make([]byte, cw)
	fill(g.grey, chromaZero)
	g.boxY = make([]byte, g.boxSize)
	g.boxU = make([]byte, g.boxSize/2)
	g.boxV = make([]byte, g.boxSize/2)
	fill(g.boxY, 180) // 75% yellow: distinct from every bar
	fill(g.boxU, 44)
	fill(g.boxV, 136)
	return g, nil
}

// Draw renders frame into img (which must be width×height) in place: the
// moving picture, the pointer overlay, then the timestamp strip carrying
// frame and capture. It panics on a size mismatch, a programming error
// that would otherwise produce a silently corrupt strip.
func (g *Generator) Draw(img *yuv.Image, frame uint32, capture time.Time) {
	if img.Width != g.width || img.Height != g.height {
		panic(fmt.Sprintf("pattern: Draw into %dx%d image, generator is %dx%d",
			img.Width, img.Height, g.width, g.height))
	}
	g.drawBackground(img, frame)
	g.drawBox(img, frame)
	g.drawCursor(img)
	drawStrip(img, g.block, NewStamp(frame, capture), g.grey)
}

// drawBackground scrolls the colour bars right and the grey ramp left, so
// motion is visible in both directions at any frame rate.
func (g *Generator) drawBackground(img *yuv.Image, frame uint32) {
	w, cw := g.width, g.width/2
	off := int(uint64(frame) * scrollPx % uint64(w))
	barsY := g.barsY[w-off : 2*w-off]
	rampY := g.rampY[off : off+w]
	for y := range g.height {
		src := barsY
		if y >= g.barsEnd {
			src = rampY
		}
		copy(img.Y[y*img.YStride:y*img.YStride+w], src)
	}
	coff := off / 2
	barsU := g.barsU[cw-coff : 2*cw-coff]
	barsV := g.barsV[cw-coff : 2*cw-coff]
	for y := range g.height / 2 {
		u, v := barsU, barsV
		if y >= g.barsEnd/2 {
			u, v = g.grey, g.grey
		}
		copy(img.U[y*img.UVStride:y*img.UVStride+cw], u)
		copy(img.V[y*img.UVStride:y*img.UVStride+cw], v)
	}
}

// drawBox bounces a solid box around the frame.
func (g *Generator) drawBox(img *yuv.Image, frame uint32) {
	bx := bounce(uint64(frame)*boxDX, g.width-g.boxSize) &^ 1
	by := bounce(uint64(frame)*boxDY, g.height-g.boxSize) &^ 1
	for y := by; y < by+g.boxSize; y++ {
		copy(img.Y[y*img.YStride+bx:], g.boxY)
	}
	for y := by / 2; y < (by+g.boxSize)/2; y++ {
		copy(img.U[y*img.UVStride+bx/2:], g.boxU)
		copy(img.V[y*img.UVStride+bx/2:], g.boxV)
	}
}

// bounce maps a monotonically growing position onto 0..span and back.
func bounce(pos uint64, span int) int {
	if span <= 0 {
		return 0
	}
	p := int(pos % uint64(2*span))
	if p > span {
		p = 2*span - p
	}
	return p
}

// Resize makes the generator draw width×height frames from the next Draw
// on (a stream::resize), with New's limits; the pointer's state is kept.
// Like Draw it must not run concurrently with Draw.
func (g *Generator) Resize(width, height int) error {
	n, err := New(width, height)
	if err != nil {
		return err
	}
	// Field by field: the cursor word is shared with SetCursor callers
	// and must stay where it is.
	g.width, g.height, g.block, g.barsEnd, g.boxSize = n.width, n.height, n.block, n.barsEnd, n.boxSize
	g.barsY, g.barsU, g.barsV, g.rampY, g.grey = n.barsY, n.barsU, n.barsV, n.rampY, n.grey
	g.boxY, g.boxU, g.boxV = n.boxY, n.boxU, n.boxV
	return nil
}

// Size is the frame size Draw expects.
func (g *Generator) Size() (width, height int) { return g.width, g.height }
