package gateway

import (
	"fmt"
	"net/http"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/session"
)

const pathApplications = "/1.0/applications"

// Application is one entry of GET /1.0/applications.
type Application struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Kind        string         `json:"kind"`
	Command     []string       `json:"command,omitempty"`
	Screen      session.Screen `json:"screen"`
	Limits      apps.Limits    `json:"limits"`
}

// catalog is the catalogue the gateway lists: Config.Apps, or the
// built-ins when none is set.
func (s *Server) catalog() *apps.Catalog {
	if s.cfg.Apps != nil {
		return s.cfg.Apps
	}
	return apps.Default()
}

func (s *Server) handleApplications(w http.ResponseWriter, _ *http.Request) {
	out := []Application{}
	for _, a := range s.catalog().List() {
		out = append(out, Application{Name: a.Name, Description: a.Description, Kind: a.Kind,
			Command: a.Command, Screen: a.Screen, Limits: a.Limits})
	}
	writeSync(w, http.StatusOK, out)
}

// checkApp refuses an app the catalogue lacks (404, naming where the list
// is) and returns the app's default screen. Without Config.Apps every name
// is accepted, with no screen defaults.
func (s *Server) checkApp(name string) (session.Screen, error) {
	if s.cfg.Apps == nil {
		return session.Screen{}, nil
	}
	app, err := s.cfg.Apps.Lookup(name)
	if err != nil {
		return session.Screen{}, fmt.Errorf("%w; GET %s lists the applications", err, pathApplications)
	}
	return app.Screen, nil
}
