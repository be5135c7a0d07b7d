package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/fleet"
)

// Status is the answer of GET /1.0/status. Agents and the unit totals are
// shown only to a caller with a valid API token.
type Status struct {
	// Healthy: NATS is connected and JetStream answers.
	Healthy bool `json:"healthy"`
	// NATS is the connection state: connected, reconnecting, closed...
	NATS       string            `json:"nats"`
	Agents     []fleet.Heartbeat `json:"agents,omitempty"`
	TotalUnits *float64          `json:"total_units,omitempty"`
	FreeUnits  *float64          `json:"free_units,omitempty"`
}

// healthTimeout bounds the JetStream round trip of a health check, which
// load balancers call often and want answered quickly.
const healthTimeout = 2 * time.Second

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), min(s.cfg.RequestTimeout, healthTimeout))
	defer cancel()
	st := Status{NATS: strings.ToLower(s.nc.Status().String())}
	var healthErr error
	if s.nc.Status() != nats.CONNECTED {
		healthErr = fmt.Errorf("NATS is %s", st.NATS)
	} else if _, err := s.res.JS.AccountInfo(ctx); err != nil {
		healthErr = fmt.Errorf("JetStream does not answer: %v", err)
	}
	st.Healthy = healthErr == nil

	// A token is optional here, but a wrong one is still refused.
	if apiToken(r) != "" && st.Healthy {
		if _, err := s.verifyAPIToken(ctx, r); err != nil {
			if errors.Is(err, auth.ErrUnauthorized) {
				s.fail(w, r, err)
				return
			}
			healthErr = err
			st.Healthy = false
		} else if agents, err := fleet.List(ctx, s.res.JS, s.res.Agents); err != nil {
			healthErr = err
			st.Healthy = false
		} else {
			var total, free float64
			for _, a := range agents {
				total += a.TotalUnits
				free += a.FreeUnits()
			}
			if agents == nil {
				agents = []fleet.Heartbeat{}
			}
			st.Agents, st.TotalUnits, st.FreeUnits = agents, &total, &free
		}
	}
	if !st.Healthy {
		s.log.Warn("unhealthy", "err", healthErr)
		writeJSON(w, http.StatusServiceUnavailable, statusError{
			ErrorResponse: ErrorResponse{Type: "error", Status: "error", StatusCode: http.StatusServiceUnavailable, Error: "unhealthy: " + healthErr.Error()},
			Metadata:      st,
		})
		return
	}
	writeSync(w, http.StatusOK, st)
}

// statusError is the 503 answer of an unhealthy status: the error envelope
// with the status in metadata, so a person can see what is wrong.
type statusError struct {
	ErrorResponse
	Metadata Status `json:"metadata"`
}

func (s *Server) handleRegions(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	regions, err := fleet.Regions(ctx, s.res.JS, s.res.Agents)
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: %w", ErrUnavailable, err))
		return
	}
	out := []string{}
	for _, r := range regions {
		if r != "" { // an agent without a region serves any request
			out = append(out, r)
		}
	}
	writeSync(w, http.StatusOK, out)
}
