package protocol

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Signaling frame types, the "type" field of every frame.
const (
	TypeDiscover         = "discover"
	TypeDiscoverResponse = "resp:discover"
	TypeSettings         = "settings"
	TypeOffer            = "offer"
	TypeAnswer           = "answer"
	TypeCandidate        = "candidate"
	TypeError            = "error"
)

// MaxAPIVersion is the newest signaling API version a streamer speaks. In
// version 2 the streamer makes the offer; in version 1 the client does.
const MaxAPIVersion = 2

// MaxSignalSize bounds a signaling frame; it matches the signaling stream's
// message size limit.
const MaxSignalSize = 1 << 20

// Codec names used in discover responses, codec preferences and the
// session record. Clients may write them in any case.
const (
	CodecVP8  = "VP8"
	CodecH264 = "H264"
)

// Message is one decoded signaling frame: *Discover, *DiscoverResponse,
// *Settings, *Offer, *Answer, *Candidate, *Error, *Control or *Peers.
type Message interface {
	// Type is the frame's "type" field.
	Type() string
	wire() any
}

// Discover asks the streamer what it offers.
type Discover struct{}

// DiscoverResponse answers Discover.
type DiscoverResponse struct {
	MaxAPIVersion int
	FPS           int
	Capabilities  []string
	Codecs        []string
}

// Settings is what the client wants from the stream. APIVersion 2 asks the
// streamer to make the offer; 1 announces that the client will.
type Settings struct {
	APIVersion int
	// DataChannels names the channels the client opens beside "control".
	DataChannels     []string
	EnableSpeaker    bool
	EnableMicrophone bool
	EnableVideo      bool
	EnableCamera     bool
	// PreferredCodecs lists the video codecs the client decodes best, best
	// first; empty means no preference.
	PreferredCodecs []string
	// SessionUpdates asks for session::peers frames (docs/peers.md); the
	// Anbox SDK does not ask and never gets them.
	SessionUpdates bool
}

// Offer carries an SDP offer: the streamer's in API version 2, the
// client's in version 1 (which also names its data channels).
type Offer struct {
	SDP          string
	DataChannels []string
}

// Answer carries an SDP answer.
type Answer struct {
	SDP string
}

// Candidate is one trickled ICE candidate. Candidate is the candidate line
// ("candidate:…"), decoded from the base64 of the wire.
type Candidate struct {
	Candidate     string
	SDPMid        *string
	SDPMLineIndex *uint16
}

// Error reports a problem the streamer can name.
type Error struct {
	Message string
}

// Type implements Message.
func (*Discover) Type() string { return TypeDiscover }

// Type implements Message.
func (*DiscoverResponse) Type() string { return TypeDiscoverResponse }

// Type implements Message.
func (*Settings) Type() string { return TypeSettings }

// Type implements Message.
func (*Offer) Type() string { return TypeOffer }

// Type implements Message.
func (*Answer) Type() string { return TypeAnswer }

// Type implements Message.
func (*Candidate) Type() string { return TypeCandidate }

// Type implements Message.
func (*Error) Type() string { return TypeError }

func (*Discover) wire() any {
	return struct {
		Type string `json:"type"`
	}{TypeDiscover}
}

func (m *DiscoverResponse) wire() any {
	return struct {
		Type          string   `json:"type"`
		MaxAPIVersion int      `json:"max_api_version"`
		FPS           int      `json:"fps"`
		Capabilities  []string `json:"capabilities"`
		Codecs        []string `json:"codecs"`
	}{TypeDiscoverResponse, m.MaxAPIVersion, m.FPS, nonNil(m.Capabilities), nonNil(m.Codecs)}
}

func (m *Settings) wire() any {
	type video struct {
		PreferredDecoderCodecs []string `json:"preferred_decoder_codecs"`
	}
	return struct {
		Type             string   `json:"type"`
		APIVersion       int      `json:"api_version"`
		DataChannels     []string `json:"data_channels"`
		EnableSpeaker    bool     `json:"enable_speaker"`
		EnableMicrophone bool     `json:"enable_microphone"`
		EnableVideo      bool     `json:"enable_video"`
		EnableCamera     bool     `json:"enable_camera"`
		Video            video    `json:"video"`
		SessionUpdates   bool     `json:"session_updates,omitempty"`
	}{TypeSettings, m.APIVersion, nonNil(m.DataChannels), m.EnableSpeaker, m.EnableMicrophone,
		m.EnableVideo, m.EnableCamera, video{nonNil(m.PreferredCodecs)}, m.SessionUpdates}
}

func (m *Offer) wire() any {
	return struct {
		Type         string   `json:"type"`
		SDP          string   `json:"sdp"`
		DataChannels []string `json:"dataChannels,omitempty"`
	}{TypeOffer, b64(m.SDP), m.DataChannels}
}

func (m *Answer) wire() any {
	return struct {
		Type string `json:"type"`
		SDP  string `json:"sdp"`
	}{TypeAnswer, b64(m.SDP)}
}

func (m *Candidate) wire() any {
	return struct {
		Type          string  `json:"type"`
		Candidate     string  `json:"candidate"`
		SDPMid        *string `json:"sdpMid"`
		SDPMLineIndex *uint16 `json:"sdpMLineIndex"`
	}{TypeCandidate, b64(m.Candidate), m.SDPMid, m.SDPMLineIndex}
}

func (m *Error) wire() any {
	return struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{TypeError, m.Message}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// Encode renders m as the JSON text frame the other side expects.
func Encode(m Message) ([]byte, error) {
	b, err := json.Marshal(m.wire())
	if err != nil {
		return nil, fmt.Errorf("protocol: encode %s: %w", m.Type(), err)
	}
	return b, nil
}

// signalIn is every field any frame may carry; Decode reads a frame into it
// and then checks the fields its type needs.
type signalIn struct {
	Type string `json:"type"`

	MaxAPIVersion int      `json:"max_api_version"`
	FPS           int      `json:"fps"`
	Capabilities  []string `json:"capabilities"`
	Codecs        []string `json:"codecs"`

	APIVersion       int      `json:"api_version"`
	DataChannels     []string `json:"data_channels"`
	EnableSpeaker    *bool    `json:"enable_speaker"`
	EnableMicrophone *bool    `json:"enable_microphone"`
	EnableVideo      *bool    `json:"enable_video"`
	EnableCamera     *bool    `json:"enable_camera"`
	Video            *struct {
		PreferredDecoderCodecs []string `json:"preferred_decoder_codecs"`
	} `json:"video"`
	SessionUpdates bool `json:"session_updates"`

	Action   string     `json:"action"`
	Peer     string     `json:"peer"`
	You      string     `json:"you"`
	Role     string     `json:"role"`
	Owner    bool       `json:"owner"`
	Peers    []PeerInfo `json:"peers"`
	Requests []string   `json:"requests"`

	SDP            *string  `json:"sdp"`
	DataChannelsV1 []string `json:"dataChannels"`

	Candidate     *string `json:"candidate"`
	SDPMid        *string `json:"sdpMid"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex"`

	Message string `json:"message"`
}

// Decode parses and validates one signaling frame. Errors wrap
// ErrMalformed, ErrUnknownType, ErrBadBase64, ErrMissingField or
// ErrOutOfRange, and their text is fit to send back in an Error frame.
func Decode(frame []byte) (Message, error) {
	if len(frame) > MaxSignalSize {
		return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrMalformed, len(frame), MaxSignalSize)
	}
	var in signalIn
	if err := json.Unmarshal(frame, &in); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch in.Type {
	case TypeDiscover:
		return &Discover{}, nil
	case TypeDiscoverResponse:
		return &DiscoverResponse{MaxAPIVersion: in.MaxAPIVersion, FPS: in.FPS,
			Capabilities: in.Capabilities, Codecs: in.Codecs}, nil
	case TypeSettings:
		s, err := decodeSettings(&in)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	case TypeOffer, TypeAnswer:
		if in.SDP == nil || *in.SDP == "" {
			return nil, fmt.Errorf("%w: %s without sdp", ErrMissingField, in.Type)
		}
		sdp, err := unb64(*in.SDP)
		if err != nil {
			return nil, fmt.Errorf("%w: %s sdp: %v", ErrBadBase64, in.Type, err)
		}
		if in.Type == TypeAnswer {
			return &Answer{SDP: sdp}, nil
		}
		if err := checkChannelNames(in.DataChannelsV1); err != nil {
			return nil, err
		}
		return &Offer{SDP: sdp, DataChannels: in.DataChannelsV1}, nil
	case TypeCandidate:
		c, err := decodeCandidate(&in)
		if err != nil {
			return nil, err
		}
		return c, nil
	case TypeError:
		return &Error{Message: in.Message}, nil
	case TypeControl:
		c, err := decodeControl(&in)
		if err != nil {
			return nil, err
		}
		return c, nil
	case TypePeers:
		p, err := decodePeers(&in)
		if err != nil {
			return nil, err
		}
		return p, nil
	case "":
		return nil, fmt.Errorf("%w: no type", ErrMissingField)
	}
	return nil, fmt.Errorf("%w: %.64q", ErrUnknownType, in.Type)
}

func decodeSettings(in *signalIn) (*Settings, error) {
	s := &Settings{
		APIVersion:   in.APIVersion,
		DataChannels: in.DataChannels,
		// What the SDK leaves out it does not use: speaker and video are on
		// unless refused, microphone and camera off unless asked for.
		EnableSpeaker:    deref(in.EnableSpeaker, true),
		EnableVideo:      deref(in.EnableVideo, true),
		EnableMicrophone: deref(in.EnableMicrophone, false),
		EnableCamera:     deref(in.EnableCamera, false),
	}
	if s.APIVersion == 0 {
		s.APIVersion = 1 // SDKs older than version 2 did not send one
	}
	if s.APIVersion < 1 || s.APIVersion > MaxAPIVersion {
		return nil, fmt.Errorf("%w: api_version %d, streamer speaks 1 to %d", ErrOutOfRange, in.APIVersion, MaxAPIVersion)
	}
	if err := checkChannelNames(s.DataChannels); err != nil {
		return nil, err
	}
	if in.Video != nil {
		s.PreferredCodecs = in.Video.PreferredDecoderCodecs
	}
	s.SessionUpdates = in.SessionUpdates
	return s, nil
}

func decodeCandidate(in *signalIn) (*Candidate, error) {
	if in.Candidate == nil {
		return nil, fmt.Errorf("%w: candidate without candidate", ErrMissingField)
	}
	line, err := unb64(*in.Candidate)
	if err != nil {
		return nil, fmt.Errorf("%w: candidate: %v", ErrBadBase64, err)
	}
	// An empty line is the end-of-candidates marker; anything else must be
	// a candidate attribute.
	if line != "" && !strings.HasPrefix(line, "candidate:") {
		return nil, fmt.Errorf("%w: candidate line %.64q", ErrMalformed, line)
	}
	if in.SDPMid == nil && in.SDPMLineIndex == nil && line != "" {
		return nil, fmt.Errorf("%w: candidate without sdpMid or sdpMLineIndex", ErrMissingField)
	}
	return &Candidate{Candidate: line, SDPMid: in.SDPMid, SDPMLineIndex: in.SDPMLineIndex}, nil
}

// maxChannels and maxChannelName bound the data channels a client may ask
// for; SCTP allows far more, a client needs a handful.
const (
	maxChannels    = 16
	maxChannelName = 64
)

func checkChannelNames(names []string) error {
	if len(names) > maxChannels {
		return fmt.Errorf("%w: %d data channels, at most %d", ErrOutOfRange, len(names), maxChannels)
	}
	for _, n := range names {
		if n == "" || len(n) > maxChannelName {
			return fmt.Errorf("%w: data channel name %.64q", ErrOutOfRange, n)
		}
	}
	return nil
}

func deref(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// unb64 decodes standard base64 as the SDK's btoa writes it, and tolerates
// a missing padding.
func unb64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		var err2 error
		if b, err2 = base64.RawStdEncoding.DecodeString(s); err2 != nil {
			return "", err
		}
	}
	return string(b), nil
}
