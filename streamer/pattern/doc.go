// Package pattern draws the streamer's synthetic test picture and defines
// the machine-readable timestamp strip clients decode to measure
// glass-to-glass latency.
//
// It owns picture generation and the strip format only. It must not
// encode, packetise or pace frames, and must stay pure Go (no cgo of its
// own; yuv.Image is the frame type).
//
// # Strip layout (public contract)
//
// Clients in other languages implement this; change it only with a
// versioned migration.
//
//   - Block size B = max(4, floor(width/80) rounded down to even) pixels.
//     The frame must be at least 80*B wide and B tall.
//   - 80 square B×B blocks in one row at the top-left corner, x = i*B,
//     y = 0, for bit i = 0..79.
//   - Luma is 16 (black) for bit 0 and 235 (white) for bit 1; chroma under
//     the strip is 128 (neutral) so colour conversion cannot shift it.
//   - Bits 0..31: frame counter, most significant bit first.
//   - Bits 32..79: the lower 48 bits of the capture time in Unix
//     microseconds, most significant bit first (wraps every ~8.9 years).
//   - To read a bit, average the centre 2×2 luma pixels of its block
//     (x = i*B + B/2 - 1 .. i*B + B/2, y = B/2 - 1 .. B/2) and compare with
//     128: >= 128 is 1. The centre survives lossy coding and scaling far
//     better than block edges.
//
// The strip is drawn last, over the moving picture and the pointer
// overlay, so the pointer can never corrupt it.
package pattern
