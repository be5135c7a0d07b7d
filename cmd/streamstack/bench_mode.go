package main

import (
	"errors"
	"fmt"

	"github.com/streamstack/streamstack/agent"
)

// streamerMode is how the bench's agent runs the streamers: as serve does
// by default (streamer hosts of --streamer-host-sessions sessions), a
// process per session (--streamer-host-sessions 0), or on goroutines of
// the agent's process (--density-in-process, the density run only).
type streamerMode struct {
	inProcess    bool
	hostSessions int
}

func newStreamerMode(inProcess bool, hostSessions int) (streamerMode, error) {
	if hostSessions < 0 {
		return streamerMode{}, errors.New("bench: --streamer-host-sessions must be 0 (a process per session) or more")
	}
	return streamerMode{inProcess: inProcess, hostSessions: hostSessions}, nil
}

// apply sets the agent's settings for the mode. In process, no host runs:
// an idle spare host would only add its CPU to the count.
func (m streamerMode) apply(c *agent.Config) {
	c.HostSessions = m.hostSessions
	if m.inProcess {
		c.HostSessions = 0
	}
}

// String names the mode with the flags that select it, for the report.
func (m streamerMode) String() string {
	switch {
	case m.inProcess:
		return "streamers on goroutines of the agent (--density-in-process)"
	case m.hostSessions == 0:
		return "a streamer process per session (--streamer-host-sessions 0)"
	default:
		return fmt.Sprintf("streamer hosts of %d sessions (--streamer-host-sessions %d)", m.hostSessions, m.hostSessions)
	}
}
