package session

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"
)

// idAlphabet's characters are in byte order, so ids compare as strings in
// the order of the numbers they encode.
const idAlphabet = "0123456789abcdefghijklmnopqrstuv"

// idTimeChars hold the creation time, idRandChars the random part: 5 bits
// a character.
const (
	idTimeChars = 10 // 50 bits of Unix milliseconds: until the year 37648
	idRandChars = 10 // 50 random bits
	idLen       = idTimeChars + idRandChars
)

// NewID returns a 20-character session id, safe as a subject token and a
// KV key. Its first ten characters are the creation time in milliseconds,
// so ids sort by creation: a listing pages through the bucket's keys in
// that order without reading any record (see Store.Page), and a sweep
// passes over records too young to have ended long ago without reading
// them (see Store.SweepEnded). The other ten are random, 50 bits: an id is
// still not guessable, and two ids of the same millisecond differ.
func NewID() string { return newIDAt(time.Now()) }

func newIDAt(t time.Time) string {
	var out [idLen]byte
	ms := uint64(max(t.UnixMilli(), 0))
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	r := binary.BigEndian.Uint64(rb[:])
	for i := idTimeChars - 1; i >= 0; i-- {
		out[i] = idAlphabet[ms&31]
		ms >>= 5
	}
	for i := idLen - 1; i >= idTimeChars; i-- {
		out[i] = idAlphabet[r&31]
		r >>= 5
	}
	return string(out[:])
}

// idTime is the creation time an id of NewID carries. Ids made before ids
// carried it (20 random characters) decode to a random time too: callers
// use it only to skip work that is certainly not due (see SweepEnded),
// never to decide that work is due.
func idTime(id string) (time.Time, bool) {
	if len(id) != idLen {
		return time.Time{}, false
	}
	var ms uint64
	for i := range idTimeChars {
		v := strings.IndexByte(idAlphabet, id[i])
		if v < 0 {
			return time.Time{}, false
		}
		ms = ms<<5 | uint64(v)
	}
	return time.UnixMilli(int64(ms)), true
}
