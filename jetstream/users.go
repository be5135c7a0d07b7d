package jetstream

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/streamstack/streamstack/subjects"
)

// Credentials are the embedded server's two users: streamstack's own
// components, and NATS clients (people and programs that create sessions
// and signal over NATS).
type Credentials struct {
	Internal User `json:"-"`
	Client   User `json:"-"`
}

type credentialsFile struct {
	Internal struct{ User, Password string } `json:"internal"`
	Client   struct{ User, Password string } `json:"client"`
}

// ClientPermissions let a NATS client do what a browser does through the
// gateway, and read events: call the session service, signal to streamers,
// consume its own signaling and the event stream. It cannot write session
// records, place sessions or impersonate a streamer.
func ClientPermissions() *server.Permissions {
	var pub []string
	for _, stream := range []string{subjects.StreamSignal, subjects.StreamEvents} {
		pub = append(pub,
			"$JS.API.STREAM.INFO."+stream,
			"$JS.API.CONSUMER.CREATE."+stream, "$JS.API.CONSUMER.CREATE."+stream+".>",
			"$JS.API.CONSUMER.DURABLE.CREATE."+stream+".>",
			"$JS.API.CONSUMER.INFO."+stream+".>",
			"$JS.API.CONSUMER.DELETE."+stream+".>",
			"$JS.API.CONSUMER.MSG.NEXT."+stream+".>",
			"$JS.API.STREAM.MSG.GET."+stream,
			"$JS.API.DIRECT.GET."+stream+".>",
			"$JS.ACK."+stream+".>",
		)
	}
	pub = append(pub,
		"$JS.API.INFO",
		subjects.API+".>",
		subjects.Prefix+".signal.*."+subjects.ToStreamer+".*",
		subjects.Prefix+".streamer.*.stats",
		"$SRV.>",
	)
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
	}
}

// NewCredentials makes random passwords for both users.
func NewCredentials() Credentials {
	return Credentials{
		Internal: User{Name: "streamstack", Password: rand.Text()},
		Client:   User{Name: "client", Password: rand.Text(), Permissions: ClientPermissions()},
	}
}

// LoadOrCreateCredentials reads the users from path, or makes them and
// writes the file (mode 0600) on a first start.
func LoadOrCreateCredentials(path string) (Credentials, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		c := NewCredentials()
		var f credentialsFile
		f.Internal.User, f.Internal.Password = c.Internal.Name, c.Internal.Password
		f.Client.User, f.Client.Password = c.Client.Name, c.Client.Password
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
	if err := json.Unmarshal(b, &f); err != nil || f.Internal.User == "" || f.Client.User == "" {
		return Credentials{}, fmt.Errorf("jetstream: credentials file %s is malformed", path)
	}
	return Credentials{
		Internal: User{Name: f.Internal.User, Password: f.Internal.Password},
		Client:   User{Name: f.Client.User, Password: f.Client.Password, Permissions: ClientPermissions()},
	}, nil
}

// Apply turns authentication on in cfg with these users.
func (c Credentials) Apply(cfg *ServerConfig) {
	cfg.Users = []User{c.Internal, c.Client}
	cfg.Internal = c.Internal
}
