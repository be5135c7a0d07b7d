package client

import "time"

// countUndecoded counts a complete frame of an Options.NoDecode peer as
// decoded.
func (p *Peer) countUndecoded(key bool) {
	now := time.Now()
	p.update(func() { p.countFrameLocked(now, key) })
}

// countFrameLocked counts a frame decoded (or, NoDecode, complete) at now;
// under the lock (update).
func (p *Peer) countFrameLocked(now time.Time, key bool) {
	s := &p.stats
	if s.FramesDecoded == 0 {
		p.firstFrameAt = now
		s.FirstFrame = now.Sub(p.started)
	}
	p.lastFrameAt = now
	s.FramesDecoded++
	if key {
		s.Keyframes++
	}
}
