package jetstream

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Credentials are the embedded server's one user, streamstack's own
// components. NATS clients (people and programs that create sessions and
// signal over NATS) connect with an API token instead (Authenticator).
type Credentials struct {
	Internal User `json:"-"`
}

// credentialsFile is nats-users.json. A file from before token clients also
// holds a "client" user, which is no longer let in.
type credentialsFile struct {
	Internal struct{ User, Password string } `json:"internal"`
}

// NewCredentials makes a random password for the internal user.
func NewCredentials() Credentials {
	return Credentials{Internal: User{Name: "streamstack", Password: rand.Text()}}
}

// LoadOrCreateCredentials reads the users from path, or makes them and
// writes the file (mode 0600) on a first start.
func LoadOrCreateCredentials(path string) (Credentials, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		c := NewCredentials()
		var f credentialsFile
		f.Internal.User, f.Internal.Password = c.Internal.Name, c.Internal.Password
		data, _ := json.MarshalIndent(f, "", "  ")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return Credentials{}, fmt.Errorf("jetstream: credentials dir: %w", err)
		}
		if err := os.WriteFile(path, append(data, '\n'), 0o600); err != nil {
			return Credentials{}, fmt.Errorf("jetstream: write credentials: %w", err)
		}
		return c, nil
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("jetstream: read credentials: %w", err)
	}
	return parseCredentials(path, b)
}

// LoadCredentials reads the users serve wrote to path.
func LoadCredentials(path string) (Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("jetstream: read credentials (has serve run with this state dir?): %w", err)
	}
	return parseCredentials(path, b)
}

func parseCredentials(path string, b []byte) (Credentials, error) {
	var f credentialsFile
	if err := json.Unmarshal(b, &f); err != nil || f.Internal.User == "" {
		return Credentials{}, fmt.Errorf("jetstream: credentials file %s is malformed", path)
	}
	return Credentials{Internal: User{Name: f.Internal.User, Password: f.Internal.Password}}, nil
}

// Apply turns authentication on in cfg: the internal user, and token
// clients once the server's SetTokenCheck is called.
func (c Credentials) Apply(cfg *ServerConfig) {
	cfg.Internal = c.Internal
}
