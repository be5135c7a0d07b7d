package apphost

import "github.com/streamstack/streamstack/streamer/protocol"

// Capabilities implements streamer.CapabilityReporter: the features of
// issue 18 this host serves, which resp:discover lists. Each feature adds
// its name where the host can serve it.
func (a *Host) Capabilities() []string {
	caps := []string{}
	// input::text needs only XTest, which Start has already required.
	if a.in != nil {
		caps = append(caps, protocol.CapabilityIME)
	}
	// The clipboard needs XFIXES and --clipboard-max-bytes above 0.
	if a.clip.x != nil {
		caps = append(caps, protocol.CapabilityClipboard)
	}
	// A display started with room to grow (Config.ResizeMaxWidth).
	if a.screen != nil {
		caps = append(caps, protocol.CapabilityResize)
	}
	return caps
}
