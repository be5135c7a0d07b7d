// Package h264 holds the pure-Go parts of H.264 that the encoder wrapper,
// the streamer and the client share: splitting Annex-B byte streams into
// NAL units, telling keyframes, the level a picture size needs, and the
// SDP fmtp parameters (RFC 6184) that name a stream's profile, level and
// packetization mode.
//
// It parses untrusted input (RTP payloads, SDP from a client) and never
// panics on it; it does not encode, decode or packetize.
package h264
