package client

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/internal/avcodec"
	"github.com/streamstack/streamstack/internal/opus"
	"github.com/streamstack/streamstack/internal/vpx"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// keyRequestInterval rate-limits picture loss indications: one per round
// trip or so is enough, more only adds keyframes.
const keyRequestInterval = 200 * time.Millisecond

// Stats are the client's view of the stream.
type Stats struct {
	// Codec is the video codec negotiated and decoded (protocol.CodecVP8,
	// protocol.CodecH264), once the video track arrived.
	Codec string

	// ConnectTime is from Connect to the peer connection's connected
	// state; FirstFrame from Connect to the first decoded frame.
	ConnectTime time.Duration
	FirstFrame  time.Duration

	FramesDecoded    uint64
	FramesDropped    uint64 // incomplete, undecodable or waiting for a keyframe
	Keyframes        uint64
	KeyframeRequests uint64
	BytesReceived    uint64 // video RTP payload
	AudioPackets     uint64
	// AudioDecoded counts Opus packets decoded, AudioSound those with
	// sound in them (a peak at or over SoundLevel); SoundOnset is when
	// the last sound began after silence, AudioPeak the peak of the last
	// packet, 0..1.
	AudioDecoded uint64
	AudioSound   uint64
	SoundOnset   time.Time
	AudioPeak    float64
	// FPS and BitrateKbps are averages from the first frame to the last.
	FPS         float64
	BitrateKbps float64
	// LastStamp is the strip of the last decoded frame, Latency its age
	// when decoded (capture → decode, same clock on one host).
	LastStamp   pattern.Stamp
	Latency     time.Duration
	StripErrors uint64
	// StreamerErrors are the messages of the streamer's error frames.
	StreamerErrors []string
}

// Stats returns a snapshot.
func (p *Peer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.StreamerErrors = append([]string(nil), s.StreamerErrors...)
	if d := p.lastFrameAt.Sub(p.firstFrameAt); d > 0 {
		s.FPS = float64(s.FramesDecoded-1) / d.Seconds()
		s.BitrateKbps = float64(s.BytesReceived) * 8 / d.Seconds() / 1000
	}
	return s
}

// WaitFrames waits until n frames in all have been decoded.
func (p *Peer) WaitFrames(ctx context.Context, n int) error {
	return p.wait(ctx, func() (bool, error) {
		if p.stats.FramesDecoded >= uint64(n) {
			return true, nil
		}
		return false, p.err
	})
}

// decoder is a video decoder of either codec.
type decoder interface {
	Decode(frame []byte) (*yuv.Image, error)
	Close() error
}

// openDecoder picks the decoder and payload format of a negotiated codec.
func openDecoder(mime string) (string, decoder, payloadFormat, error) {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		dec, err := vpx.NewVP8Decoder()
		return protocol.CodecVP8, dec, vp8Format{}, err
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		dec, err := avcodec.NewH264Decoder()
		return protocol.CodecH264, dec, h264Format{}, err
	}
	return "", nil, nil, fmt.Errorf("%w: no decoder for %s", ErrProtocol, mime)
}

// captureTimeID is the id the video's abs-capture-time was negotiated
// with; 0 when it was not.
func captureTimeID(r *webrtc.RTPReceiver) uint8 {
	for _, e := range r.GetParameters().HeaderExtensions {
		if e.URI == protocol.AbsCaptureTimeURI && e.ID > 0 && e.ID < 256 {
			return uint8(e.ID)
		}
	}
	return 0
}

func (p *Peer) readVideo(t *webrtc.TrackRemote, captureID uint8) {
	codec, dec, format, err := openDecoder(t.Codec().MimeType)
	if err != nil {
		p.log.Error("video decoder", "codec", t.Codec().MimeType, "err", err)
		p.fail(err)
		return
	}
	defer func() { _ = dec.Close() }()
	p.update(func() { p.stats.Codec = codec })
	asm := newAssembler(format)
	needKey := true
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		if p.opts.OnCaptureTime != nil && captureID != 0 {
			var ext rtp.AbsCaptureTimeExtension
			if b := pkt.GetExtension(captureID); b != nil && ext.Unmarshal(b) == nil {
				p.opts.OnCaptureTime(pkt.Timestamp, ext.CaptureTime())
			}
		}
		frame, key, lost := asm.push(pkt)
		p.mu.Lock()
		p.stats.BytesReceived += uint64(len(pkt.Payload))
		p.mu.Unlock()
		if lost {
			needKey = true
			p.dropped()
			p.requestKeyframe(t)
		}
		if frame == nil {
			continue
		}
		if needKey && !key {
			p.dropped()
			p.requestKeyframe(t)
			continue
		}
		if p.opts.NoDecode {
			needKey = false
			p.countUndecoded(key)
			continue
		}
		img, err := dec.Decode(frame)
		if err != nil {
			needKey = true
			p.dropped()
			p.requestKeyframe(t)
			continue
		}
		needKey = false
		stamp, serr := pattern.Decode(img)
		now := time.Now()
		// OnFrame first: a WaitFrames that returns has seen its frames.
		if p.opts.OnFrame != nil {
			p.opts.OnFrame(img, stamp)
		}
		p.update(func() {
			s := &p.stats
			p.countFrameLocked(now, key)
			if serr != nil {
				s.StripErrors++
				return
			}
			s.LastStamp = stamp
			s.Latency = stamp.Latency(now)
		})
	}
}

func (p *Peer) dropped() {
	p.update(func() { p.stats.FramesDropped++ })
}

func (p *Peer) requestKeyframe(t *webrtc.TrackRemote) {
	p.mu.Lock()
	if time.Since(p.lastKeyRequest) < keyRequestInterval {
		p.mu.Unlock()
		return
	}
	p.lastKeyRequest = time.Now()
	p.stats.KeyframeRequests++
	p.mu.Unlock()
	err := p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())}})
	if err != nil {
		p.log.Debug("send PLI", "err", err)
	}
}

// SoundLevel is the peak, relative to full scale, from which a decoded
// audio packet counts as sound: about -40 dBFS, over Opus's noise on
// digital silence and under any audible signal.
const SoundLevel = 0.01

// Opus's longest frame, 120 ms at 48 kHz, stereo.
const maxAudioSamples = 5760 * 2

func (p *Peer) readAudio(t *webrtc.TrackRemote) {
	dec, err := opus.NewDecoder(48000, 2)
	if err != nil {
		p.log.Error("opus decoder", "err", err)
	}
	defer func() {
		if dec != nil {
			_ = dec.Close()
		}
	}()
	pcm := make([]int16, maxAudioSamples)
	sounding := false
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		peak, decoded := -1.0, false
		if dec != nil && len(pkt.Payload) > 0 {
			if n, err := dec.Decode(pkt.Payload, pcm); err == nil {
				peak, decoded = peakOf(pcm[:2*n]), true
			}
		}
		now := time.Now()
		p.update(func() {
			p.stats.AudioPackets++
			if !decoded {
				return
			}
			p.stats.AudioDecoded++
			p.stats.AudioPeak = peak
			loud := peak >= SoundLevel
			if loud {
				p.stats.AudioSound++
				if !sounding {
					p.stats.SoundOnset = now
				}
			}
			sounding = loud
		})
	}
}

func peakOf(pcm []int16) float64 {
	var m int
	for _, v := range pcm {
		m = max(m, abs(int(v)))
	}
	return float64(m) / 32768
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// WaitSound waits for a sound that began after since (a silence before
// it) and returns when it began.
func (p *Peer) WaitSound(ctx context.Context, since time.Time) (time.Time, error) {
	var at time.Time
	err := p.wait(ctx, func() (bool, error) {
		at = p.stats.SoundOnset
		if at.After(since) {
			return true, nil
		}
		return false, p.err
	})
	return at, err
}
