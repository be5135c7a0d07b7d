//go:build linux

package uinput

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultPath is where the uinput module's device node lives.
const DefaultPath = "/dev/uinput"

var (
	// ErrUnavailable: /dev/uinput is missing or cannot be opened (no
	// module, no permission, a container without the device).
	ErrUnavailable = errors.New("uinput: unavailable")
	// ErrClosed: the device was closed.
	ErrClosed = errors.New("uinput: closed")
	// ErrRange: a button or axis index the standard mapping lacks.
	ErrRange = errors.New("uinput: no such button or axis")
)

// ioctl requests of linux/uinput.h (x/sys/unix does not define them):
// _IO('U', n) is 0x5500|n, _IOW adds the write direction and the size of
// the argument.
const (
	uiDevCreate  = 0x5501
	uiDevDestroy = 0x5502
	uiDevSetup   = 0x40000000 | sizeofSetup<<16 | 0x5503
	uiAbsSetup   = 0x40000000 | sizeofAbsSetup<<16 | 0x5504
	uiSetEvBit   = 0x40045564
	uiSetKeyBit  = 0x40045565
	uiSetAbsBit  = 0x40045567
	uiGetSysname = 0x80000000 | sysnameLen<<16 | 0x552c // UI_GET_SYSNAME(len)

	sizeofSetup    = 8 + uinputMaxNameSize + 4 // struct uinput_setup
	sizeofAbsSetup = 4 + 6*4                   // struct uinput_abs_setup
	sysnameLen     = 64

	uinputMaxNameSize = 80
	busVirtual        = 0x06
)

// Event types and codes of linux/input-event-codes.h.
const (
	evSyn     = 0x00
	evKey     = 0x01
	evAbs     = 0x03
	synReport = 0

	btnSouth = 0x130 // BTN_A
	btnEast  = 0x131 // BTN_B
	// BTN_X and BTN_Y, the left and top face buttons as xpad reports
	// them and SDL maps them; the kernel also calls these codes
	// BTN_NORTH and BTN_WEST, the other way round from where they sit.
	btnX      = 0x133
	btnY      = 0x134
	btnTL     = 0x136
	btnTR     = 0x137
	btnTL2    = 0x138
	btnTR2    = 0x139
	btnSelect = 0x13a
	btnStart  = 0x13b
	btnMode   = 0x13c
	btnThumbL = 0x13d
	btnThumbR = 0x13e

	absX     = 0x00
	absY     = 0x01
	absZ     = 0x02
	absRX    = 0x03
	absRY    = 0x04
	absRZ    = 0x05
	absHat0X = 0x10
	absHat0Y = 0x11
)

// Axis ranges: sticks as most pads report them (signed 16 bits), the
// triggers 0..255 as xpad does, the hat -1..1.
const (
	stickMax   = 32767
	triggerMax = 255
)

// ButtonCodes maps the standard mapping's buttons to evdev codes, as the
// kernel's xpad driver reports an Xbox pad (what SDL and games expect):
// 0 A, 1 B, 2 X, 3 Y, 4/5 bumpers, 6/7 triggers, 8 back, 9 start, 10/11
// stick clicks, 16 home. 12-15, the d-pad, move the hat axes instead
// (dpad), as on xpad.
var ButtonCodes = map[int]uint16{
	0: btnSouth, 1: btnEast, 2: btnX, 3: btnY,
	4: btnTL, 5: btnTR, 6: btnTL2, 7: btnTR2,
	8: btnSelect, 9: btnStart, 10: btnThumbL, 11: btnThumbR,
	16: btnMode,
}

// dpad: buttons 12-15 (up, down, left, right) on the hat axes.
var dpad = map[int]struct {
	axis uint16
	dir  int32
}{12: {absHat0Y, -1}, 13: {absHat0Y, 1}, 14: {absHat0X, -1}, 15: {absHat0X, 1}}

// triggers: buttons 6 and 7 also move the trigger axes, fully, since the
// protocol's button message carries no analogue value.
var triggers = map[int]uint16{6: absZ, 7: absRZ}

// Axes maps the standard mapping's axes (0/1 left stick x/y, 2/3 right
// stick x/y; 4/5, which some browsers report for the triggers, to the
// trigger axes) to evdev codes.
var Axes = map[int]uint16{0: absX, 1: absY, 2: absRX, 3: absRY, 4: absZ, 5: absRZ}

type absInfo struct{ min, max int32 }

var absRanges = map[uint16]absInfo{
	absX: {-stickMax, stickMax}, absY: {-stickMax, stickMax},
	absRX: {-stickMax, stickMax}, absRY: {-stickMax, stickMax},
	absZ: {0, triggerMax}, absRZ: {0, triggerMax},
	absHat0X: {-1, 1}, absHat0Y: {-1, 1},
}

// Gamepad is one virtual gamepad. Its methods are safe for concurrent use.
type Gamepad struct {
	mu  sync.Mutex
	f   *os.File
	pad [4]bool // d-pad buttons 12-15 held: opposite ones may overlap
}

// Open creates a virtual gamepad named name through the uinput device at
// path (DefaultPath when empty). Errors opening the device wrap
// ErrUnavailable.
func Open(path, name string) (*Gamepad, error) {
	if path == "" {
		path = DefaultPath
	}
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	g := &Gamepad{f: f}
	if err := g.setup(name); err != nil {
		_ = f.Close()
		return nil, err
	}
	return g, nil
}

func (g *Gamepad) ioctl(req, arg uintptr) error {
	conn, err := g.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := conn.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, arg)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

func (g *Gamepad) setup(name string) error {
	for _, ev := range []uintptr{evKey, evAbs} {
		if err := g.ioctl(uiSetEvBit, ev); err != nil {
			return fmt.Errorf("uinput: UI_SET_EVBIT %d: %w", ev, err)
		}
	}
	for _, code := range ButtonCodes {
		if err := g.ioctl(uiSetKeyBit, uintptr(code)); err != nil {
			return fmt.Errorf("uinput: UI_SET_KEYBIT %#x: %w", code, err)
		}
	}
	for code, r := range absRanges {
		if err := g.ioctl(uiSetAbsBit, uintptr(code)); err != nil {
			return fmt.Errorf("uinput: UI_SET_ABSBIT %#x: %w", code, err)
		}
		// struct uinput_abs_setup: __u16 code, 2 bytes of padding, then
		// struct input_absinfo {value, minimum, maximum, fuzz, flat,
		// resolution} of __s32.
		var abs [sizeofAbsSetup]byte
		*(*uint16)(unsafe.Pointer(&abs[0])) = code
		*(*int32)(unsafe.Pointer(&abs[8])) = r.min
		*(*int32)(unsafe.Pointer(&abs[12])) = r.max
		if err := g.ioctl(uiAbsSetup, uintptr(unsafe.Pointer(&abs[0]))); err != nil {
			return fmt.Errorf("uinput: UI_ABS_SETUP %#x: %w", code, err)
		}
	}
	// struct uinput_setup: struct input_id {bustype, vendor, product,
	// version} of __u16, char name[80], __u32 ff_effects_max.
	var s [sizeofSetup]byte
	*(*uint16)(unsafe.Pointer(&s[0])) = busVirtual
	*(*uint16)(unsafe.Pointer(&s[6])) = 1
	copy(s[8:8+uinputMaxNameSize-1], name)
	if err := g.ioctl(uiDevSetup, uintptr(unsafe.Pointer(&s[0]))); err != nil {
		return fmt.Errorf("uinput: UI_DEV_SETUP: %w", err)
	}
	if err := g.ioctl(uiDevCreate, 0); err != nil {
		return fmt.Errorf("uinput: UI_DEV_CREATE: %w", err)
	}
	return nil
}

// Button presses or releases button index of the standard mapping.
func (g *Gamepad) Button(index int, pressed bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.f == nil {
		return ErrClosed
	}
	if d, ok := dpad[index]; ok {
		g.pad[index-12] = pressed
		// The hat is where the held buttons of its axis point: both or
		// none held is the centre.
		var v int32
		lo, hi := 0, 1 // up, down
		if d.axis == absHat0X {
			lo, hi = 2, 3 // left, right
		}
		if g.pad[lo] {
			v--
		}
		if g.pad[hi] {
			v++
		}
		return g.emit(event{evAbs, d.axis, v})
	}
	code, ok := ButtonCodes[index]
	if !ok {
		return fmt.Errorf("%w: button %d", ErrRange, index)
	}
	evs := []event{{evKey, code, b2i(pressed)}}
	if axis, ok := triggers[index]; ok {
		evs = append(evs, event{evAbs, axis, b2i(pressed) * triggerMax})
	}
	return g.emit(evs...)
}

// Axis moves axis index of the standard mapping to value, -1..1 (clamped;
// a trigger axis maps -1..1 onto its 0..255).
func (g *Gamepad) Axis(index int, value float64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.f == nil {
		return ErrClosed
	}
	code, ok := Axes[index]
	if !ok {
		return fmt.Errorf("%w: axis %d", ErrRange, index)
	}
	if math.IsNaN(value) {
		value = 0
	}
	value = max(-1, min(1, value))
	r := absRanges[code]
	v := int32(math.Round(float64(r.min) + (value+1)/2*float64(r.max-r.min)))
	return g.emit(event{evAbs, code, v})
}

type event struct {
	typ, code uint16
	value     int32
}

// sizeofEvent is struct input_event: a struct timeval (two longs), then
// __u16 type, __u16 code, __s32 value.
const sizeofEvent = int(unsafe.Sizeof(unix.Timeval{})) + 8

// emit writes evs and a SYN_REPORT, the frame that makes readers act on
// them, in one write. The kernel stamps the time itself.
func (g *Gamepad) emit(evs ...event) error {
	buf := make([]byte, 0, (len(evs)+1)*sizeofEvent)
	for _, e := range append(evs, event{evSyn, synReport, 0}) {
		var b [32]byte
		off := sizeofEvent - 8
		*(*uint16)(unsafe.Pointer(&b[off])) = e.typ
		*(*uint16)(unsafe.Pointer(&b[off+2])) = e.code
		*(*int32)(unsafe.Pointer(&b[off+4])) = e.value
		buf = append(buf, b[:sizeofEvent]...)
	}
	if _, err := g.f.Write(buf); err != nil {
		return fmt.Errorf("uinput: write: %w", err)
	}
	return nil
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// EventPath is the evdev node of the device (/dev/input/eventN), which a
// reader opens to see what the pad does. udev may create it a moment
// after Open returns; wait bounds the wait for it.
func (g *Gamepad) EventPath(wait time.Duration) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.f == nil {
		return "", ErrClosed
	}
	var name [sysnameLen]byte
	if err := g.ioctl(uiGetSysname, uintptr(unsafe.Pointer(&name[0]))); err != nil {
		return "", fmt.Errorf("uinput: UI_GET_SYSNAME: %w", err)
	}
	sys := filepath.Join("/sys/devices/virtual/input", strings.TrimRight(string(name[:]), "\x00"))
	deadline := time.Now().Add(wait)
	for {
		m, _ := filepath.Glob(filepath.Join(sys, "event*"))
		if len(m) > 0 {
			dev := filepath.Join("/dev/input", filepath.Base(m[0]))
			if _, err := os.Stat(dev); err == nil {
				return dev, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("uinput: no event device under %s", sys)
		}
		// Polled: udev gives no event to wait on without a netlink socket.
		time.Sleep(10 * time.Millisecond)
	}
}

// Close destroys the device (UI_DEV_DESTROY: readers see it go) and
// closes the uinput handle; safe to call twice.
func (g *Gamepad) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.f == nil {
		return nil
	}
	err := g.ioctl(uiDevDestroy, 0)
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	g.f = nil
	if err != nil {
		return fmt.Errorf("uinput: destroy: %w", err)
	}
	return nil
}
