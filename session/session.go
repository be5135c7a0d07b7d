package session

import (
	"encoding/json"
	"time"
)

// Status is a session's coarse state, with the values of the Anbox Cloud
// Stream Gateway so existing clients understand it. Finer steps go in
// Session.StatusMessage and in events.
type Status string

const (
	StatusCreated     Status = "created"
	StatusActive      Status = "active"
	StatusError       Status = "error"
	StatusTerminating Status = "terminating"
	StatusTerminated  Status = "terminated"
)

// Ended reports whether no further work happens for a session in status s.
func (s Status) Ended() bool {
	return s == StatusError || s == StatusTerminated
}

// Screen is the remote display a session streams.
type Screen struct {
	Width   int `json:"width"`
	Height  int `json:"height"`
	FPS     int `json:"fps"`
	Density int `json:"density"`
}

// Session is the record kept in the sessions bucket.
type Session struct {
	ID            string          `json:"id"`
	App           string          `json:"app"`
	AppVersion    int             `json:"app_version"`
	Region        string          `json:"region"`
	Status        Status          `json:"status"`
	StatusMessage string          `json:"status_message"`
	Joinable      bool            `json:"joinable"`
	Ephemeral     bool            `json:"ephemeral"`
	IdleTimeMin   int             `json:"idle_time_min"`
	Screen        Screen          `json:"screen"`
	ExtraData     json.RawMessage `json:"extra_data,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	// CreatedBy is the id of the API token that created the session
	// (empty: created over NATS); a "sessions"-scoped token manages only
	// the sessions it created.
	CreatedBy string    `json:"created_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Agent is the id of the agent that placed the session, once placed.
	Agent string `json:"agent,omitempty"`
	// ClientConnected reports a client's peer connection is up now.
	ClientConnected bool `json:"client_connected"`
	// Socket is the one session token its owner's signaling websocket may
	// use: the one the latest create or join with the API token answered.
	// The gateway marks it used when a websocket presents it; see
	// SocketToken.
	Socket *SocketToken `json:"socket,omitempty"`
	// AllowViewers lets several peers stream the session at once, with
	// roles (docs/peers.md); without it a join replaces the peer.
	AllowViewers bool `json:"allow_viewers,omitempty"`
	// Peers are the connected clients, written by the streamer.
	Peers []Peer `json:"peers,omitempty"`
	// Guests are the socket tokens joins through share links minted, each
	// good for one websocket of its Role, newest last; bounded by the
	// gateway.
	Guests []SocketToken `json:"guests,omitempty"`
	// Shares are the session's share links, live or revoked until they
	// expire.
	Shares []ShareLink `json:"shares,omitempty"`
	// Codec is the video codec the streamer sends, once negotiated.
	Codec string `json:"codec,omitempty"`
	// Reason says why a session ended or failed.
	Reason string `json:"reason,omitempty"`
	// Units is the encoder capacity the session costs.
	Units float64 `json:"units,omitempty"`
	// VideoCodecs are the video codecs the client can decode, in its
	// order of preference (VP8, H264); empty: any. Placement only picks an
	// encoder that encodes one of them, and the streamer offers only
	// those.
	VideoCodecs []string `json:"video_codecs,omitempty"`
	// Encoder is the encoder pool the agent placed the session on ("cpu",
	// "nvenc0", "vaapi-renderD128"; see package encoders): the streamer
	// opens that pool's backend, on that pool's device, for the negotiated
	// codec. Empty: software.
	Encoder string `json:"encoder,omitempty"`
	// EncoderFallback, once set, says the session's hardware encoder
	// failed or stalled and its streamer moved it to software (Encoder is
	// then "cpu"). Set once: the change is an EventEncoderFallback.
	EncoderFallback *EncoderFallback `json:"encoder_fallback,omitempty"`
}

// SocketToken is the session's current websocket token, kept in the record
// rather than in a gateway, so that every gateway on the same NATS sees
// it used. It holds the token's id only: the token itself is signed and
// never stored.
type SocketToken struct {
	// ID is the id the token carries (auth.NewSocketTokenID).
	ID string `json:"id"`
	// IssuedAt is when create or join minted it.
	IssuedAt time.Time `json:"issued_at"`
	// UsedAt, once set, is when a websocket presented it; it opens no
	// other. UsedBy is that websocket's connection id.
	UsedAt time.Time `json:"used_at,omitzero"`
	UsedBy string    `json:"used_by,omitempty"`
	// Role is the grant of a guest's token (RoleViewer, RoleController);
	// empty for the owner's. Share names the link that minted it.
	Role  string `json:"role,omitempty"`
	Share string `json:"share,omitempty"`
}

// EncoderFallback is a session's move from a hardware encoder to software
// for the same codec, without a new peer connection.
type EncoderFallback struct {
	FromBackend string `json:"from_backend"` // h264_nvenc, h264_vaapi, vp8_vaapi
	ToBackend   string `json:"to_backend"`   // x264, libvpx
	FromPool    string `json:"from_pool"`
	ToPool      string `json:"to_pool"`
	Codec       string `json:"codec"`
	// Reason is the encoder's error, or the stall it showed.
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// Request asks an agent to place a session. The record carries the details;
// the request only names it, so a stale request never carries stale data.
type Request struct {
	SessionID string    `json:"session_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Reasons recorded when a session ends.
const (
	ReasonDeleted        = "deleted"
	ReasonNoCapacity     = "no capacity"
	ReasonClientLeft     = "client disconnected"
	ReasonIdle           = "idle timeout"
	ReasonICEFailed      = "ice failed"
	ReasonStreamerExited = "streamer exited"
	ReasonAgentStopped   = "agent stopped"
	ReasonSignaling      = "signaling error"
	// ReasonNoClient ends a session no client reached within the
	// streamer's client connect timeout: it held capacity for nobody.
	ReasonNoClient = "no client"
	// ReasonAgentLost ends the sessions of an agent whose heartbeat
	// expired (package reconcile): its streamers died with it.
	ReasonAgentLost = "agent lost"
	// ReasonAgentRestarted ends the sessions a restarted agent finds
	// under its id: their streamers died with its previous run.
	ReasonAgentRestarted = "agent restarted"
)
