package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"
)

// ControlChannel is the label of the data channel that carries input.
const ControlChannel = "control"

// Control message types, sent on the control channel as {type, data}.
const (
	InputMouseMove     = "input::mouse-move"
	InputMouseButton   = "input::mouse-button"
	InputMouseWheel    = "input::mouse-wheel"
	InputKey           = "input::key"
	InputTouchStart    = "input::touch-start"
	InputTouchMove     = "input::touch-move"
	InputTouchEnd      = "input::touch-end"
	InputGamepadButton = "input::gamepad-button"
	InputGamepadAxes   = "input::gamepad-axes"
	StreamDisconnect   = "stream::disconnect"
	// InputText is text an input method committed, {text}: typed into
	// the app as Unicode (issue 18), whatever the keyboard's layout.
	InputText = "input::text"
	// StreamResize asks for the session's screen at {width, height}
	// (issue 18): the client's viewport, in device pixels.
	StreamResize = "stream::resize"
)

// Capabilities a streamer may list in resp:discover's capabilities
// (issue 18), each only where the session's app and host serve it.
const (
	CapabilityClipboard    = "clipboard"
	CapabilityFileUpload   = "file-upload"
	CapabilityFileDownload = "file-download"
	CapabilityMicrophone   = "microphone"
	CapabilityCamera       = "camera"
	CapabilityResize       = "resize"
	CapabilityIME          = "ime"
	CapabilityCursor       = "cursor"
)

// ControlTypes lists every control message type, in a stable order.
var ControlTypes = []string{
	InputMouseMove, InputMouseButton, InputMouseWheel, InputKey,
	InputTouchStart, InputTouchMove, InputTouchEnd,
	InputGamepadButton, InputGamepadAxes, StreamDisconnect, StatsGlassToGlass,
	ClipboardSet,
	InputText,
	StreamResize,
}

// Limits of the values a control message may carry. Absolute positions are
// bounded by the screen instead.
const (
	MaxControlSize   = 4096 // bytes in one message
	MaxRelative      = 1 << 14
	MaxWheel         = 1 << 14
	MaxMouseButton   = 15
	MaxKeyCode       = 1023 // Android key codes stay well below
	MaxTouchID       = 31
	MaxGamepadID     = 15
	MaxGamepadButton = 31
	MaxGamepadAxis   = 15
	// MaxTextRunes bounds an input::text: an IME commits a word or a
	// sentence, and each rune is a key press or two in the app.
	MaxTextRunes = 256
	// MaxResize bounds a stream::resize's sides before the streamer's own
	// limits (Config.ResizeMaxWidth/Height) apply; MinResize is the test
	// pattern's smallest picture.
	MaxResize = 16384
	MinResize = 16
)

// Input is one validated control message. Only the fields of its Type are
// set: X/Y (absolute position or wheel delta), RX/RY (relative motion),
// Button/Pressed, Code/Pressed (key), ID (touch point or gamepad), Last
// (touch-end of the last point), Index/Pressed/Value (gamepad), Glass
// (StatsGlassToGlass), Text (InputText, ClipboardSet), Width/Height
// (StreamResize).
type Input struct {
	Type    string
	X, Y    int
	RX, RY  int
	Button  int
	Code    int
	ID      int
	Index   int
	Pressed bool
	Last    bool
	Value   float64
	Glass   *GlassReport
	Text    string
	Width   int
	Height  int
}

type controlIn struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// controlData is every field a control message's data may carry; pointers
// tell a missing field from a zero.
type controlData struct {
	X       *float64 `json:"x"`
	Y       *float64 `json:"y"`
	RX      *float64 `json:"rx"`
	RY      *float64 `json:"ry"`
	Button  *float64 `json:"button"`
	Pressed *bool    `json:"pressed"`
	Code    *float64 `json:"code"`
	ID      *float64 `json:"id"`
	Last    *bool    `json:"last"`
	Index   *float64 `json:"index"`
	Value   *float64 `json:"value"`
	Text    *string  `json:"text"`
	Width   *float64 `json:"width"`
	Height  *float64 `json:"height"`
}

// DecodeControl parses and validates one control message for a screen of
// width×height pixels. Errors wrap ErrMalformed, ErrUnknownType,
// ErrMissingField or ErrOutOfRange.
func DecodeControl(msg []byte, width, height int) (Input, error) {
	// Only a clipboard::set may be longer than MaxControlSize.
	if len(msg) > MaxClipboardMessage {
		return Input{}, fmt.Errorf("%w: control message of %d bytes", ErrMalformed, len(msg))
	}
	var in controlIn
	if err := json.Unmarshal(msg, &in); err != nil {
		return Input{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(msg) > MaxControlSize && in.Type != ClipboardSet {
		return Input{}, fmt.Errorf("%w: control message of %d bytes", ErrMalformed, len(msg))
	}
	var d controlData
	if len(in.Data) > 0 && !bytes.Equal(in.Data, []byte("null")) {
		if err := json.Unmarshal(in.Data, &d); err != nil {
			return Input{}, fmt.Errorf("%w: %s data: %v", ErrMalformed, in.Type, err)
		}
	}
	v := validator{typ: in.Type}
	ev := Input{Type: in.Type}
	switch in.Type {
	case InputMouseMove:
		ev.X = v.int("x", d.X, 0, width-1)
		ev.Y = v.int("y", d.Y, 0, height-1)
		ev.RX = v.optInt("rx", d.RX, -MaxRelative, MaxRelative)
		ev.RY = v.optInt("ry", d.RY, -MaxRelative, MaxRelative)
	case InputMouseButton:
		ev.Button = v.int("button", d.Button, 0, MaxMouseButton)
		ev.Pressed = v.bool("pressed", d.Pressed)
	case InputMouseWheel:
		ev.X = v.optInt("x", d.X, -MaxWheel, MaxWheel)
		ev.Y = v.optInt("y", d.Y, -MaxWheel, MaxWheel)
	case InputKey:
		ev.Code = v.int("code", d.Code, 0, MaxKeyCode)
		ev.Pressed = v.bool("pressed", d.Pressed)
	case InputTouchStart, InputTouchMove:
		ev.ID = v.int("id", d.ID, 0, MaxTouchID)
		ev.X = v.int("x", d.X, 0, width-1)
		ev.Y = v.int("y", d.Y, 0, height-1)
	case InputTouchEnd:
		ev.ID = v.int("id", d.ID, 0, MaxTouchID)
		if d.Last != nil {
			ev.Last = *d.Last
		}
	case InputGamepadButton:
		ev.ID = v.int("id", d.ID, 0, MaxGamepadID)
		ev.Index = v.int("index", d.Index, 0, MaxGamepadButton)
		ev.Pressed = v.bool("pressed", d.Pressed)
	case InputGamepadAxes:
		ev.ID = v.int("id", d.ID, 0, MaxGamepadID)
		ev.Index = v.int("index", d.Index, 0, MaxGamepadAxis)
		ev.Value = v.float("value", d.Value, -1, 1)
	case StreamDisconnect:
	case ClipboardSet:
		ev.Text = v.clipboardText(d.Text, in.Data)
	case InputText:
		ev.Text = v.text("text", d.Text)
	case StreamResize:
		ev.Width = v.int("width", d.Width, MinResize, MaxResize)
		ev.Height = v.int("height", d.Height, MinResize, MaxResize)
	case StatsGlassToGlass:
		g, err := decodeGlass(in.Data)
		if err != nil {
			return Input{}, err
		}
		ev.Glass = g
	case "":
		return Input{}, fmt.Errorf("%w: control message without type", ErrMissingField)
	default:
		return Input{}, fmt.Errorf("%w: control %.64q", ErrUnknownType, in.Type)
	}
	if v.err != nil {
		return Input{}, v.err
	}
	return ev, nil
}

// validator keeps the first error of a message's fields, so a decoder reads
// as the list of its fields.
type validator struct {
	typ string
	err error
}

func (v *validator) float(name string, f *float64, lo, hi float64) float64 {
	if v.err != nil {
		return 0
	}
	if f == nil {
		v.err = fmt.Errorf("%w: %s without %s", ErrMissingField, v.typ, name)
		return 0
	}
	if math.IsNaN(*f) || *f < lo || *f > hi {
		v.err = fmt.Errorf("%w: %s %s=%v not in [%v, %v]", ErrOutOfRange, v.typ, name, *f, lo, hi)
		return 0
	}
	return *f
}

// int reads a number and truncates it: browsers report positions scaled to
// the remote screen with fractions.
func (v *validator) int(name string, f *float64, lo, hi int) int {
	if v.err != nil {
		return 0
	}
	if f == nil {
		v.err = fmt.Errorf("%w: %s without %s", ErrMissingField, v.typ, name)
		return 0
	}
	t := math.Trunc(*f)
	if math.IsNaN(t) || t < float64(lo) || t > float64(hi) {
		v.err = fmt.Errorf("%w: %s %s=%v not in [%d, %d]", ErrOutOfRange, v.typ, name, *f, lo, hi)
		return 0
	}
	return int(t)
}

func (v *validator) optInt(name string, f *float64, lo, hi int) int {
	if f == nil {
		return 0
	}
	return v.int(name, f, lo, hi)
}

// text reads committed text: valid UTF-8 (encoding/json would have
// replaced invalid bytes, so U+FFFD is refused too: what the client sent
// was not text), at most MaxTextRunes, no control characters but tab and
// newline (what a key of the app can type).
func (v *validator) text(name string, s *string) string {
	if v.err != nil {
		return ""
	}
	if s == nil {
		v.err = fmt.Errorf("%w: %s without %s", ErrMissingField, v.typ, name)
		return ""
	}
	if !utf8.ValidString(*s) {
		v.err = fmt.Errorf("%w: %s %s is not UTF-8", ErrMalformed, v.typ, name)
		return ""
	}
	if n := utf8.RuneCountInString(*s); n > MaxTextRunes {
		v.err = fmt.Errorf("%w: %s %s of %d runes, at most %d", ErrOutOfRange, v.typ, name, n, MaxTextRunes)
		return ""
	}
	for _, r := range *s {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t' && r != '\n') {
			v.err = fmt.Errorf("%w: %s %s holds %U", ErrOutOfRange, v.typ, name, r)
			return ""
		}
	}
	return *s
}

func (v *validator) bool(name string, b *bool) bool {
	if v.err != nil {
		return false
	}
	if b == nil {
		v.err = fmt.Errorf("%w: %s without %s", ErrMissingField, v.typ, name)
		return false
	}
	return *b
}

// EncodeControl renders a control message as a client sends it.
func EncodeControl(typ string, data any) ([]byte, error) {
	if data == nil {
		data = struct{}{}
	}
	b, err := json.Marshal(struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}{typ, data})
	if err != nil {
		return nil, fmt.Errorf("protocol: encode control %s: %w", typ, err)
	}
	return b, nil
}
