package cache

// remembered is how many tags' last invalidation the cache keeps.
func (c *Cache[V]) remembered() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.invalidated)
}

// joined is how many keys the batch taking misses holds.
func (c *Cache[V]) joined() int {
	c.batchMu.Lock()
	defer c.batchMu.Unlock()
	if c.open == nil {
		return 0
	}
	return len(c.open.keys)
}
