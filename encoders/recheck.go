package encoders

// Recheck runs Probe's test encode on one backend again: an agent that
// saw a hardware encoder fail mid-session trusts it again only once a
// real encode works (see agent's re-probe). The error says why not.
func Recheck(b Backend) error { return testEncode(b) }
