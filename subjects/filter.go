package subjects

import "strings"

// EventFilter is a filter subject over the event stream for one session and
// one event type, either of which may be empty for any: "" and "" match every
// event, a session alone matches EventsOf, a type alone (dotted, without the
// version, like "session.created") matches it in every session.
func EventFilter(sessionID, eventType string) (string, error) {
	session := "*"
	if sessionID != "" {
		if err := check(sessionID); err != nil {
			return "", err
		}
		session = sessionID
	}
	if eventType == "" {
		if sessionID == "" {
			return EventsAll, nil
		}
		return Prefix + ".event." + session + ".>", nil
	}
	for _, part := range strings.Split(eventType, ".") {
		if err := check(part); err != nil {
			return "", err
		}
	}
	return Prefix + ".event." + session + "." + eventType, nil
}
