package main

import (
	"flag"
	"strconv"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/streamer"
)

// mediaFlags are the streamer's settings of what it sends, what its apps
// run as and how long it waits for a client. The agent and serve take them too and pass them down to
// their streamers (passDownEnv).
var mediaFlags = []string{"app-audio", "app-user", "min-bitrate-kbps", "max-bitrate-kbps",
	"app-isolation", "container-runtime", "app-uid-base", "app-uid-slots", "client-connect-timeout",
	"max-peers", "viewer-bitrate-floor-kbps", "viewer-keyframe-interval", "clipboard-max-bytes",
	"resize-max-width", "resize-max-height", "resize-units-slack", "resize-timeout"}

func addMediaFlags(fs *flag.FlagSet, c *streamer.Config) {
	fs.BoolVar(&c.AppAudio, "app-audio", c.AppAudio, "give each X11 app a private PulseAudio server (a null sink; pulseaudio must be installed) and stream what it plays; off: the app has no sound server and the audio track is silent")
	fs.StringVar(&c.AppUser, "app-user", c.AppUser, "user (name or uid) that runs X11 apps whose catalogue entry names none, when the streamer runs as root; empty: root (not for apps anyone can reach)")
	fs.IntVar(&c.MinBitrateKbps, "min-bitrate-kbps", c.MinBitrateKbps, "lowest video bitrate the bandwidth estimate may choose; the start, from the screen size, is clamped into the range")
	fs.DurationVar(&c.ClientConnectTimeout, "client-connect-timeout", c.ClientConnectTimeout, "how long after its streamer is ready a session may wait for its first client to connect before it ends with reason \"no client\" (it holds capacity for nobody); 0: forever")
	fs.StringVar(&c.AppIsolation, "app-isolation", c.AppIsolation, "how X11 apps are kept apart: container (each in an OCI container of its own, with a uid range per session; needs root and runc) or none (a process beside the streamer as --app-user: UNSAFE, any app can reach every other session and the stack)")
	fs.StringVar(&c.ContainerRuntime, "container-runtime", "runc", "OCI runtime that runs X11 apps' containers (runc; crun where cgroup v2 is unified)")
	uidBase, uidSlots := uintFlag{&c.AppUIDBase, 1_000_000_000}, uintFlag{&c.AppUIDSlots, 4096}
	*uidBase.p, *uidSlots.p = uidBase.def, uidSlots.def
	fs.Var(uidBase, "app-uid-base", "first host uid of X11 apps' containers: session slot n maps its container's uids onto base + n*65536 onwards (keep it clear of /etc/subuid ranges)")
	fs.Var(uidSlots, "app-uid-slots", "uid ranges (65536 uids each) for containers: the most X11 sessions one host runs at once")
	fs.IntVar(&c.MaxBitrateKbps, "max-bitrate-kbps", c.MaxBitrateKbps, "highest video bitrate the bandwidth estimate may choose; equal to the lowest: a fixed bitrate")
	fs.IntVar(&c.MaxPeers, "max-peers", c.MaxPeers, "most connections, connecting or connected, one session with allow_viewers takes at once (docs/peers.md); one more gets a signaling error")
	fs.IntVar(&c.ViewerBitrateFloorKbps, "viewer-bitrate-floor-kbps", c.ViewerBitrateFloorKbps, "lowest a viewer's bandwidth estimate may pull a shared session's bitrate below the controller's (docs/peers.md, Congestion)")
	fs.DurationVar(&c.ViewerKeyframeInterval, "viewer-keyframe-interval", c.ViewerKeyframeInterval, "least time between keyframes one viewer's loss reports may cause")
	fs.IntVar(&c.ClipboardMaxBytes, "clipboard-max-bytes", c.ClipboardMaxBytes, "longest clipboard text, in bytes, either way between the controller and an X11 app (a longer copy in the app is reported as too large); keep its JSON under the browser's data channel max-message-size (256 KiB in Chromium); 0: no clipboard")
	fs.IntVar(&c.ResizeMaxWidth, "resize-max-width", c.ResizeMaxWidth, "widest screen a client's stream::resize may ask for (the gateway's screen limits bound a new session's)")
	fs.IntVar(&c.ResizeMaxHeight, "resize-max-height", c.ResizeMaxHeight, "tallest screen a client's stream::resize may ask for")
	fs.Float64Var(&c.ResizeUnitsSlack, "resize-units-slack", c.ResizeUnitsSlack, "encoder units a resized screen may cost beyond what its session reserved; a larger one is refused with the reason")
	fs.DurationVar(&c.ResizeTimeout, "resize-timeout", c.ResizeTimeout, "longest one resize (the display's change of size and the encoder's reopening) may take before it is refused")
}

// uintFlag is a uint32 setting.
type uintFlag struct {
	p   *uint32
	def uint32
}

func (u uintFlag) String() string {
	if u.p == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*u.p), 10)
}

func (u uintFlag) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return err
	}
	*u.p = uint32(n)
	return nil
}

// applyIsolation hands the agent what its streamers were told of app
// containers (the media flags), so that it probes and cleans up the same.
func applyIsolation(acfg *agent.Config, c streamer.Config) {
	acfg.AppIsolation = c.AppIsolation
	acfg.Containers = container.Runtime{Binary: c.ContainerRuntime}
	acfg.AppSlots = container.DefaultSlots()
	if c.AppUIDBase != 0 {
		acfg.AppSlots.Base = c.AppUIDBase
	}
	if c.AppUIDSlots != 0 {
		acfg.AppSlots.Count = c.AppUIDSlots
	}
}
