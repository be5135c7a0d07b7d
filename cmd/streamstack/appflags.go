package main

import (
	"flag"

	"github.com/streamstack/streamstack/streamer"
)

// appFlags are the X11 apps' settings of the streamer. The agent and serve
// only pass them down to their streamers (passDownEnv).
var appFlags = []string{"app-audio", "app-user"}

func addAppFlags(fs *flag.FlagSet, c *streamer.Config) {
	fs.BoolVar(&c.AppAudio, "app-audio", c.AppAudio, "give each X11 app a private PulseAudio server (a null sink; pulseaudio must be installed) and stream what it plays; off: the app has no sound server and the audio track is silent")
	fs.StringVar(&c.AppUser, "app-user", c.AppUser, "user (name or uid) that runs X11 apps whose catalogue entry names none, when the streamer runs as root; empty: root (not for apps anyone can reach)")
}
