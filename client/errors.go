package client

import "errors"

var (
	// ErrStreamer reports an error frame from the streamer; the message
	// follows.
	ErrStreamer = errors.New("client: streamer reported an error")
	// ErrProtocol reports a frame from the streamer the client cannot use.
	ErrProtocol = errors.New("client: protocol error")
	// ErrFailed reports a peer connection that failed or closed before it
	// connected.
	ErrFailed = errors.New("client: peer connection failed")
	// ErrNotOpen reports input sent before the control channel is open.
	ErrNotOpen = errors.New("client: control channel not open")
	// ErrNoCommonCodec reports a streamer's offer without any video codec
	// of Options.PreferredCodecs; the client tells the streamer with an
	// error frame.
	ErrNoCommonCodec = errors.New("client: no common video codec")
	// ErrSignalingLost reports a signaler (the gateway's websocket) that
	// closed before the peer connection connected: a Failover joins again.
	ErrSignalingLost = errors.New("client: signaling lost before the peer connected")
	// ErrClosed reports use of a closed peer or signaler.
	ErrClosed = errors.New("client: closed")
)
