package idemqkafka

import kafkago "github.com/segmentio/kafka-go"

// SetHooks lets tests observe generations and successful offset commits.
func SetHooks[V any](c *Consumer[V], generation func(*kafkago.Generation), committed func(*kafkago.Generation, map[string]map[int]int64)) {
	c.hooks = hooks{generation: generation, committed: committed}
}
