package agent

// PlacementConsumer is the durable consumer of the requests stream that
// every agent pulls placement requests through: an agent's /readyz probes
// that it answers, as an agent that cannot pull places nothing.
const PlacementConsumer = consumerName
