package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalidFrame: a signaling frame is not a JSON object with a non-empty
// string "type".
var ErrInvalidFrame = errors.New("invalid signaling frame")

// ValidateFrame checks a client's signaling frame without parsing what it
// carries: it must be UTF-8 JSON, an object, with a non-empty string
// "type". The SDP and candidates inside are the streamer's business; the
// gateway relays the bytes unchanged. The size limit is the websocket's
// (Config.MaxFrameBytes), not checked here.
//
// As encoding/json does, the "type" key matches case-insensitively.
func ValidateFrame(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidFrame)
	}
	i := 0
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	if i == len(data) || data[i] != '{' {
		return fmt.Errorf("%w: must be a JSON object", ErrInvalidFrame)
	}
	var f struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "type" {
			return fmt.Errorf("%w: \"type\" must be a string", ErrInvalidFrame)
		}
		return fmt.Errorf("%w: not valid JSON", ErrInvalidFrame)
	}
	if f.Type == nil {
		return fmt.Errorf("%w: missing string \"type\"", ErrInvalidFrame)
	}
	if *f.Type == "" {
		return fmt.Errorf("%w: \"type\" must not be empty", ErrInvalidFrame)
	}
	return nil
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// errorFrame is what the gateway sends a client about a frame it did not
// relay; the connection stays open.
func errorFrame(msg string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{"error", msg})
	return b
}
