//go:build cgo

package x11

// #cgo pkg-config: xfixes
// #include <stdlib.h>
// #include "clipboard.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Selections a Clipboard serves and watches.
const (
	SelectionClipboard = "clipboard"
	SelectionPrimary   = "primary"
)

// ClipboardChange is a new text another X client put on a selection, or,
// with TooLarge, one the limit refused (Text is empty then).
type ClipboardChange struct {
	Selection string // SelectionClipboard or SelectionPrimary
	Text      string // valid UTF-8, at most the limit's bytes
	TooLarge  bool
}

// Clipboard is a display's text selections, both ways: Set makes its own
// connection the owner of CLIPBOARD and PRIMARY with a text, which it
// serves to the apps that paste (TARGETS, UTF8_STRING, TEXT, STRING); when
// another client takes either, onChange gets the new text.
//
// One goroutine owns the connection: Xlib's display is not for two
// threads, and serving a paste must not wait on the caller. It sleeps in
// poll(2) on the connection and on a pipe that Set and Close write to.
type Clipboard struct {
	c        *C.ss_clip
	max      int
	onChange func(ClipboardChange)
	wakeR    int
	wakeW    int
	done     chan struct{}

	mu      sync.Mutex
	text    *string // the latest Set not yet owned, nil none
	closing bool
	synced  []chan struct{} // Sync's callers, told once the text is owned
}

// NewClipboard connects to display (cookie as NewCapturer) for its
// clipboard. max bounds a text in bytes both ways: Set refuses a longer
// one, and a longer one from an app comes as TooLarge (INCR transfers,
// how X clients send what is large, are refused). onChange runs on the
// clipboard's goroutine and must not block for long.
func NewClipboard(display string, cookie *Cookie, max int, onChange func(ClipboardChange)) (*Clipboard, error) {
	if max <= 0 {
		return nil, fmt.Errorf("%w: clipboard limit %d", ErrFormat, max)
	}
	initXlib()
	name := C.CString(display)
	defer C.free(unsafe.Pointer(name))
	var e C.int
	ck, n := cookieArg(cookie)
	c := C.ss_clip_open(name, ck, n, C.int(max), &e)
	if c == nil {
		if e == 2 {
			return nil, fmt.Errorf("%w %s: no XFIXES extension", ErrOpen, display)
		}
		return nil, fmt.Errorf("%w %s (clipboard)", ErrOpen, display)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		C.ss_clip_close(c)
		return nil, fmt.Errorf("x11: clipboard pipe: %w", err)
	}
	cb := &Clipboard{c: c, max: max, onChange: onChange, wakeR: p[0], wakeW: p[1], done: make(chan struct{})}
	go cb.loop()
	return cb, nil
}

// ErrClipboardText: a text Set refuses (over the limit, or not UTF-8).
var ErrClipboardText = errors.New("x11: clipboard text refused")

// Set makes text (valid UTF-8, at most the limit) the content of CLIPBOARD
// and PRIMARY. It does not wait for the server: the clipboard's goroutine
// takes the latest text.
func (cb *Clipboard) Set(text string) error {
	if len(text) > cb.max {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrClipboardText, len(text), cb.max)
	}
	if !utf8.ValidString(text) {
		return fmt.Errorf("%w: not UTF-8", ErrClipboardText)
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.closing {
		return ErrClosed
	}
	cb.text = &text
	cb.wake()
	return nil
}

// Sync waits until the text of the Sets before it is owned (or refused by
// the server), so that a paste after it gets that text.
func (cb *Clipboard) Sync(ctx context.Context) error {
	ch := make(chan struct{})
	cb.mu.Lock()
	if cb.closing {
		cb.mu.Unlock()
		return ErrClosed
	}
	cb.synced = append(cb.synced, ch)
	cb.wake()
	cb.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-cb.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wake makes the goroutine look at its state; a full pipe has a wake-up
// pending already.
func (cb *Clipboard) wake() { _, _ = unix.Write(cb.wakeW, []byte{0}) }

// Done is closed once the clipboard's goroutine has ended: on Close, or
// when the display went away.
func (cb *Clipboard) Done() <-chan struct{} { return cb.done }

// Close ends the goroutine and disconnects; safe to call twice.
func (cb *Clipboard) Close() {
	cb.mu.Lock()
	if !cb.closing {
		cb.closing = true
		cb.wake()
	}
	cb.mu.Unlock()
	<-cb.done
}

func (cb *Clipboard) loop() {
	defer func() {
		C.ss_clip_close(cb.c)
		// Under the lock, so that no Set writes to a closed (perhaps
		// reused) descriptor: closing stops them.
		cb.mu.Lock()
		cb.closing = true
		_ = unix.Close(cb.wakeR)
		_ = unix.Close(cb.wakeW)
		cb.mu.Unlock()
		close(cb.done)
	}()
	fds := []unix.PollFd{{Fd: int32(C.ss_clip_fd(cb.c)), Events: unix.POLLIN}, {Fd: int32(cb.wakeR), Events: unix.POLLIN}}
	var buf [64]byte
	for {
		cb.mu.Lock()
		text, closing, synced := cb.text, cb.closing, cb.synced
		cb.text, cb.synced = nil, nil
		cb.mu.Unlock()
		if closing {
			return
		}
		if text != nil && cb.set(*text) < 0 {
			return
		}
		for _, ch := range synced {
			close(ch)
		}
		if !cb.pump() {
			return
		}
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			cb.pump() // lets Xlib see the end and mark the connection dead
			return
		}
		for {
			if n, _ := unix.Read(cb.wakeR, buf[:]); n < len(buf) {
				break
			}
		}
	}
}

func (cb *Clipboard) set(text string) int {
	var p *C.char // nil for ""
	if len(text) > 0 {
		p = (*C.char)(unsafe.Pointer(unsafe.StringData(text)))
	}
	return int(C.ss_clip_set(cb.c, p, C.int(len(text))))
}

// pump handles what the server sent; false once the connection is dead.
func (cb *Clipboard) pump() bool {
	for {
		var out *C.char
		var n, which C.int
		r := C.ss_clip_pump(cb.c, &out, &n, &which)
		switch r {
		case 0:
			return true
		case -1:
			return false
		}
		ch := ClipboardChange{Selection: SelectionClipboard}
		if which&1 != 0 {
			ch.Selection = SelectionPrimary
		}
		if r == 2 {
			ch.TooLarge = true
		} else {
			b := C.GoBytes(unsafe.Pointer(out), n)
			C.free(unsafe.Pointer(out))
			if which&4 != 0 {
				ch.Text = latin1ToUTF8(b)
			} else {
				// Apps put what they like there: the client gets text.
				ch.Text = strings.ToValidUTF8(string(b), "\uFFFD")
			}
			if len(ch.Text) > cb.max {
				ch.Text, ch.TooLarge = "", true
			}
		}
		if cb.onChange != nil {
			cb.onChange(ch)
		}
	}
}

func latin1ToUTF8(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
