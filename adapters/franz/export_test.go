package idemqfranz

// SetCommitHook lets tests observe successful offset commits.
func SetCommitHook[V any](c *Consumer[V], committed func(topic string, partition int32, offset int64)) {
	c.hooks.committed = committed
}
