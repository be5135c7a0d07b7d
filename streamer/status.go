package streamer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/streamstack/streamstack/session"
)

// statusWriter writes the session's status_message (and the negotiated
// codec) off the event loop: each write is a KV compare-and-set plus an
// event, and the loop is on the path of time to first frame. Only the
// latest values matter, so one that is overtaken before it is written is
// dropped.
type statusWriter struct {
	store   *session.Store
	id      string
	timeout time.Duration
	log     *slog.Logger

	mu       sync.Mutex
	pending  string
	has      bool
	codec    string
	hasCodec bool
	// screen is the size a stream::resize gave the display (resize.go).
	screen    session.Screen
	hasScreen bool
	// peers are the peer lists to write, oldest first: each its own
	// write, so each change has its lifecycle event (session.peersChange).
	peers [][]session.Peer
	kick  chan struct{}
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newStatusWriter(store *session.Store, id string, timeout time.Duration, log *slog.Logger) *statusWriter {
	w := &statusWriter{store: store, id: id, timeout: timeout, log: log,
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	w.wg.Go(w.run)
	return w
}

// set queues msg as the next status message.
func (w *statusWriter) set(msg string) {
	w.mu.Lock()
	w.pending, w.has = msg, true
	w.mu.Unlock()
	w.wake()
}

// setCodec queues the negotiated video codec for the record's codec.
func (w *statusWriter) setCodec(codec string) {
	w.mu.Lock()
	w.codec, w.hasCodec = codec, true
	w.mu.Unlock()
	w.wake()
}

// setScreen queues the display's new size for the record's screen.
func (w *statusWriter) setScreen(sc session.Screen) {
	w.mu.Lock()
	w.screen, w.hasScreen = sc, true
	w.mu.Unlock()
	w.wake()
}

// maxPeerWrites bounds the peer lists waiting to be written; beyond it
// the oldest go: the record only needs the latest.
const maxPeerWrites = 32

// setPeers queues the connected peers for the record's peers.
func (w *statusWriter) setPeers(list []session.Peer) {
	w.mu.Lock()
	if len(w.peers) >= maxPeerWrites {
		w.peers = w.peers[1:]
	}
	w.peers = append(w.peers, list)
	w.mu.Unlock()
	w.wake()
}

func (w *statusWriter) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *statusWriter) run() {
	for {
		select {
		case <-w.stop:
			return
		case <-w.kick:
		}
		for w.writeNext() {
			select {
			case <-w.stop:
				return
			default:
			}
		}
	}
}

// writeNext writes what is pending: the status message and codec first
// (client_connected is the event the first frame is timed by), then one
// peer list. It reports whether it wrote anything.
func (w *statusWriter) writeNext() bool {
	w.mu.Lock()
	msg, has, codec, hasCodec := w.pending, w.has, w.codec, w.hasCodec
	screen, hasScreen := w.screen, w.hasScreen
	w.has, w.hasCodec, w.hasScreen = false, false, false
	var peers []session.Peer
	hasPeers := false
	if !has && !hasCodec && !hasScreen && len(w.peers) > 0 {
		peers, hasPeers = w.peers[0], true
		w.peers = w.peers[1:]
	}
	w.mu.Unlock()
	if !has && !hasCodec && !hasPeers && !hasScreen {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	connected := msg == msgConnected
	_, err := w.store.Update(ctx, w.id, func(s *session.Session) error {
		sameMsg := !has || (s.StatusMessage == msg && s.ClientConnected == connected)
		sameCodec := !hasCodec || s.Codec == codec
		samePeers := !hasPeers || slices.EqualFunc(s.Peers, peers, samePeer)
		sameScreen := !hasScreen || s.Screen == screen
		if s.Status != session.StatusActive || (sameMsg && sameCodec && samePeers && sameScreen) {
			return session.ErrNoChange
		}
		if has {
			s.StatusMessage, s.ClientConnected = msg, connected
		}
		if hasCodec {
			s.Codec = codec
		}
		if hasPeers {
			s.Peers = peers
		}
		if hasScreen {
			s.Screen = screen
		}
		return nil
	})
	if err != nil && !errors.Is(err, session.ErrEnded) {
		w.log.Warn("status message", "message", msg, "codec", codec, "peers", len(peers), "err", err)
	}
	return true
}

func samePeer(a, b session.Peer) bool {
	return a.ID == b.ID && a.Role == b.Role && a.Owner == b.Owner && a.Codec == b.Codec && a.JoinedAt.Equal(b.JoinedAt)
}

// close stops the writer; a message not yet written is dropped.
func (w *statusWriter) close() {
	close(w.stop)
	w.wg.Wait()
}

// timer is a stoppable one-shot whose channel is nil while it is not
// running, so the event loop can select on it unconditionally.
type timer struct {
	t *time.Timer
	c <-chan time.Time
}

func (t *timer) start(d time.Duration) {
	t.stop()
	t.t = time.NewTimer(d)
	t.c = t.t.C
}

func (t *timer) stop() {
	if t.t != nil {
		t.t.Stop()
		t.t, t.c = nil, nil
	}
}
