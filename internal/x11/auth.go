package x11

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
)

// AuthName is the X authorization protocol of a session's display.
const AuthName = "MIT-MAGIC-COOKIE-1"

// familyWild is the Xauthority address family FamilyWild (Xauth.h):
// any address.
const familyWild = 65535

// Cookie is the secret of an MIT-MAGIC-COOKIE-1: a client that sends it
// when it connects may use the display, any other is refused.
type Cookie [16]byte

// NewCookie draws a cookie from the system's random source.
func NewCookie() (*Cookie, error) {
	var c Cookie
	if _, err := rand.Read(c[:]); err != nil {
		return nil, fmt.Errorf("x11: cookie: %w", err)
	}
	return &c, nil
}

// String hides the secret from logs and error messages.
func (c *Cookie) String() string { return AuthName }

// Xauthority renders c as an Xauthority file (what xauth writes, read by
// libXau in every client and by the X server's -auth): one entry of
// family FamilyWild with an empty address and an empty display number.
// libXau matches a wild family with any address and an empty number with
// any display, so the file is right for a display whose number is known
// only once the server runs (-displayfd), and it is written before.
func (c *Cookie) Xauthority() []byte {
	var b []byte
	field := func(s []byte) {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint16(b, familyWild)
	field(nil) // address
	field(nil) // display number
	field([]byte(AuthName))
	field(c[:])
	return b
}

// authDir is a session's private directory holding its Xauthority file.
type authDir struct {
	dir, file string
}

// newAuthDir writes c's Xauthority file in a new directory of mode 0700
// (os.MkdirTemp's) under parent, the file 0600: no other user can read
// the cookie.
func newAuthDir(parent string, c *Cookie) (*authDir, error) {
	dir, err := os.MkdirTemp(parent, "streamstack-xauth-")
	if err != nil {
		return nil, fmt.Errorf("%w: auth directory: %w", ErrXvfb, err)
	}
	a := &authDir{dir: dir, file: filepath.Join(dir, "Xauthority")}
	if err := os.WriteFile(a.file, c.Xauthority(), 0o600); err != nil {
		a.remove()
		return nil, fmt.Errorf("%w: auth file: %w", ErrXvfb, err)
	}
	return a, nil
}

// chown hands the directory and the file to uid:gid, the user an app
// runs as: the file must be readable by the app, and by no one else.
func (a *authDir) chown(uid, gid int) error {
	for _, p := range []string{a.dir, a.file} {
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("x11: auth file for uid %d: %w", uid, err)
		}
	}
	return nil
}

func (a *authDir) remove() {
	if a != nil {
		_ = os.RemoveAll(a.dir)
	}
}
