package main

import (
	"flag"

	"github.com/streamstack/streamstack/streamer"
)

// mediaFlags are the streamer's settings of what it sends and what its
// apps run as. The agent and serve take them too and pass them down to
// their streamers (passDownEnv).
var mediaFlags = []string{"app-audio", "app-user", "min-bitrate-kbps", "max-bitrate-kbps"}

func addMediaFlags(fs *flag.FlagSet, c *streamer.Config) {
	fs.BoolVar(&c.AppAudio, "app-audio", c.AppAudio, "give each X11 app a private PulseAudio server (a null sink; pulseaudio must be installed) and stream what it plays; off: the app has no sound server and the audio track is silent")
	fs.StringVar(&c.AppUser, "app-user", c.AppUser, "user (name or uid) that runs X11 apps whose catalogue entry names none, when the streamer runs as root; empty: root (not for apps anyone can reach)")
	fs.IntVar(&c.MinBitrateKbps, "min-bitrate-kbps", c.MinBitrateKbps, "lowest video bitrate the bandwidth estimate may choose; the start, from the screen size, is clamped into the range")
	fs.IntVar(&c.MaxBitrateKbps, "max-bitrate-kbps", c.MaxBitrateKbps, "highest video bitrate the bandwidth estimate may choose; equal to the lowest: a fixed bitrate")
}
