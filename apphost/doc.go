// Package apphost hosts one session's application on the streamer's
// machine: it owns the session's private display (Xvfb), its sound server
// (PulseAudio), its virtual gamepads (uinput) and the app itself, in an
// OCI container of its own (internal/container, IsolationContainer) or as
// a process beside the streamer (IsolationNone), with the catalogue's
// sandbox fields (user, limits, root, volumes, devices, network).
//
// What the streamer needs of it is small: Start, then a *Host that draws
// the display's picture (Draw), delivers the app's sound (AudioFrames),
// injects the client's input (HandleInput, Unsupported) and says when and
// why the app ended (Exited, ExitReason); Close leaves nothing running.
// ContainerID and DeleteContainer let a supervisor clean up after a
// streamer that died.
//
// It must not know about NATS, WebRTC, encoders or session records: the
// streamer (package streamer) owns those and imports this package, never
// the other way round.
package apphost
