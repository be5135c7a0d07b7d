package hostproto

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/streamstack/streamstack/subjects"
)

// MaxLine bounds one message: a request holds a session's environment
// (the streamers' settings, some hundred bytes each) and a NATS URL.
const MaxLine = 256 << 10

// Ops of a Request.
const (
	// OpRun starts a session's streamer on the host.
	OpRun = "run"
	// OpStop asks it to end, as SIGTERM asks a streamer process; for a
	// warm app, to stop it.
	OpStop = "stop"
	// OpWarm starts an app ahead of its session (the catalogue's warm):
	// Session is the warm app's own id, which an OpRun names in Warm.
	OpWarm = "warm"
)

// Request is what the agent asks of a host.
type Request struct {
	Op      string `json:"op"`
	Session string `json:"session"`
	// Env is the session's streamer environment (what a streamer process
	// would get besides the host's own): OpRun only, no secrets.
	Env []string `json:"env,omitempty"`
	// NATSURL, with the session's own credential: OpRun only.
	NATSURL string `json:"nats_url,omitempty"`
	// App is the app to start, at Width×Height: OpWarm only.
	App    string `json:"app,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	// Warm names a warm app of this host the session takes: OpRun only,
	// optional.
	Warm string `json:"warm,omitempty"`
}

// Event is what a host tells the agent.
type Event struct {
	// Session has ended; Error is why, empty for a clean end. With Ready,
	// the warm app Session has started instead.
	Session string `json:"session,omitempty"`
	Error   string `json:"error,omitempty"`
	Ready   bool   `json:"ready,omitempty"`
	// HostReady, alone: the host has warmed up (its encoders opened once)
	// and its sessions start at full speed.
	HostReady bool `json:"host_ready,omitempty"`
}

// ErrBadMessage is a line that is not a valid message.
var ErrBadMessage = errors.New("hostproto: bad message")

// Validate checks a request before the host acts on it.
func (r Request) Validate() error {
	if !subjects.ValidToken(r.Session) {
		return fmt.Errorf("%w: session %q", ErrBadMessage, r.Session)
	}
	switch r.Op {
	case OpRun:
		if r.NATSURL == "" {
			return fmt.Errorf("%w: run without a NATS URL", ErrBadMessage)
		}
		if r.Warm != "" && (!subjects.ValidToken(r.Warm) || r.Warm == r.Session) {
			return fmt.Errorf("%w: warm app %q", ErrBadMessage, r.Warm)
		}
	case OpWarm:
		if r.App == "" || r.NATSURL != "" || r.Width <= 0 || r.Height <= 0 || r.Width > 8192 || r.Height > 8192 {
			return fmt.Errorf("%w: warm needs an app, a screen up to 8192×8192 and no NATS URL", ErrBadMessage)
		}
	case OpStop:
	default:
		return fmt.Errorf("%w: op %q", ErrBadMessage, r.Op)
	}
	return nil
}

// Reader reads messages, one per line, of at most MaxLine bytes.
type Reader struct {
	r   *bufio.Reader
	err error // what ended the stream; every later read returns it
}

// NewReader reads from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 64<<10)} }

// ReadRequest returns the next valid request, or io.EOF at the end.
func (r *Reader) ReadRequest() (Request, error) {
	var req Request
	if err := r.next(&req); err != nil {
		return Request{}, err
	}
	return req, req.Validate()
}

// ReadEvent returns the next event, or io.EOF at the end.
func (r *Reader) ReadEvent() (Event, error) {
	var ev Event
	if err := r.next(&ev); err != nil {
		return Event{}, err
	}
	if ev.HostReady {
		if ev != (Event{HostReady: true}) {
			return Event{}, fmt.Errorf("%w: host_ready with other fields", ErrBadMessage)
		}
		return ev, nil
	}
	if !subjects.ValidToken(ev.Session) {
		return Event{}, fmt.Errorf("%w: session %q", ErrBadMessage, ev.Session)
	}
	return ev, nil
}

// next decodes the next line into v. A line that does not decode is
// ErrBadMessage, and the next line may be read; a line over MaxLine or a
// failed read ends the stream: that call and every later one return the
// error (never ErrBadMessage, so a reader skipping bad messages stops).
func (r *Reader) next(v any) error {
	line, err := r.line()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return nil
}

func (r *Reader) line() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	var buf []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		switch {
		case len(buf) > MaxLine+1:
			r.err = fmt.Errorf("hostproto: a line over %d bytes", MaxLine)
			return nil, r.err
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			r.err = io.EOF // the last line, without its newline
			return buf, nil
		case errors.Is(err, io.EOF):
			r.err = io.EOF
		default:
			r.err = fmt.Errorf("hostproto: read: %w", err)
		}
		return nil, r.err
	}
}

// Writer writes messages, one per line; safe for concurrent use.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write sends one message (a Request or an Event).
func (w *Writer) Write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) >= MaxLine {
		return fmt.Errorf("hostproto: message of %d bytes over %d", len(b), MaxLine)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.w.Write(append(b, '\n'))
	return err
}
