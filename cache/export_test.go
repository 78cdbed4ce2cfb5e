package cache

// remembered is how many tags' last invalidation the cache keeps.
func (c *Cache[V]) remembered() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.invalidated)
}
