// Package x264 is a thin cgo wrapper over the system libx264, configured
// once for one-pass, real-time, low-latency H.264 that every browser
// decodes: Constrained Baseline (no B-frames, CAVLC), one slice per frame
// with one thread, SPS and PPS repeated before every IDR, Annex-B output,
// CBR with a VBV of about one frame, preset ultrafast and tune
// zerolatency (no lookahead, no frame of delay).
//
// Frames are yuv.Image. The output of one Encode is one access unit: every
// NAL unit of the frame, with start codes, which is what an RTP H.264
// payloader (RFC 6184, packetization mode 1) takes as one sample.
//
// Like internal/vpx it must not grow transport, packetisation or pacing
// concerns. It depends only on internal/yuv (the frame) and internal/h264
// (the level table, pure Go).
//
// x264 is GPL-2.0-or-later: a binary that links it is distributed under
// the GPL (or under a commercial x264 licence).
package x264
