package pattern

import (
	"math"

	"github.com/streamstack/streamstack/internal/yuv"
)

const (
	cursorSize   = 12
	cursorBorder = 2
	// Released and pressed fills differ strongly in luma so a client can
	// tell them apart after lossy coding: white vs red.
	cursorY, cursorU, cursorV    = 235, 128, 128
	pressedY, pressedU, pressedV = 81, 90, 240
)

// Cursor state is packed into one word so Draw sees a consistent
// position/visibility/pressed triple without a lock on the hot path:
// bits 0-15 x, 16-31 y (int16), bit 32 visible, bit 33 pressed.
const (
	cursorVisible = 1 << 32
	cursorPressed = 1 << 33
)

// SetCursor records the pointer position (top-left of the overlay square)
// and visibility for the next Draw. Coordinates are clamped to int16.
func (g *Generator) SetCursor(x, y int, visible bool) {
	pos := uint64(uint16(clampInt16(x))) | uint64(uint16(clampInt16(y)))<<16
	if visible {
		pos |= cursorVisible
	}
	for {
		old := g.cursor.Load()
		if g.cursor.CompareAndSwap(old, old&cursorPressed|pos) {
			return
		}
	}
}

// SetPressed records whether a pointer button is held, which changes the
// overlay's colour.
func (g *Generator) SetPressed(pressed bool) {
	if pressed {
		g.cursor.Or(cursorPressed)
	} else {
		g.cursor.And(^uint64(cursorPressed))
	}
}

func clampInt16(v int) int16 {
	return int16(min(max(v, math.MinInt16), math.MaxInt16))
}

// drawCursor paints a bordered square, clipped to the frame.
func (g *Generator) drawCursor(img *yuv.Image) {
	st := g.cursor.Load()
	if st&cursorVisible == 0 {
		return
	}
	x0 := int(int16(uint16(st)))
	y0 := int(int16(uint16(st >> 16)))
	fy, fu, fv := byte(cursorY), byte(cursorU), byte(cursorV)
	if st&cursorPressed != 0 {
		fy, fu, fv = pressedY, pressedU, pressedV
	}
	// Outer square black, inner square filled: visible on any background.
	g.rect(img, x0, y0, cursorSize, lumaBlack, chromaZero, chromaZero)
	in := cursorSize - 2*cursorBorder
	g.rect(img, x0+cursorBorder, y0+cursorBorder, in, fy, fu, fv)
}

// rect fills a size×size square at (x0, y0) clipped to the frame. Chroma
// covers every 2×2 cell the square touches.
func (g *Generator) rect(img *yuv.Image, x0, y0, size int, y, u, v byte) {
	x1, y1 := min(x0+size, g.width), min(y0+size, g.height)
	x0, y0 = max(x0, 0), max(y0, 0)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	for r := y0; r < y1; r++ {
		fill(img.Y[r*img.YStride+x0:r*img.YStride+x1], y)
	}
	cx0, cx1 := x0/2, (x1+1)/2
	for r := y0 / 2; r < (y1+1)/2; r++ {
		fill(img.U[r*img.UVStride+cx0:r*img.UVStride+cx1], u)
		fill(img.V[r*img.UVStride+cx0:r*img.UVStride+cx1], v)
	}
}
