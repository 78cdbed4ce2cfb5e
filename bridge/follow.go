package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// followWindow is how far behind its highest sequence number the follower re-reads:
// sequence values are taken at insert but become visible at commit, out of order.
const followWindow = 128

// keyUseInterval is how often the keys' last use is written to the ERP.
const keyUseInterval = time.Minute

// followBatch bounds the change-log rows read per poll.
const followBatch = 1000

// follower is the change-log follower's state. last and seen belong to the goroutine
// running Follow; status is read by Health.
type follower struct {
	last       int64              // highest sequence number applied
	seen       map[int64]struct{} // applied numbers within the window
	reload     bool               // mappings changed and are not reloaded yet
	reloadKeys bool               // keys changed and are not reloaded yet
	flushed    time.Time          // when key use was last written to the ERP

	mu     sync.Mutex
	status FollowerStatus
}

// FollowerStatus is how far the change-log follower is behind.
type FollowerStatus struct {
	Started  bool
	LastSeq  int64
	LastPoll time.Time
	Lag      time.Duration // since the last successful read of the change log
	Error    string
}

// Follow reads the ERP's change log every FollowInterval until ctx ends, invalidating
// what changed. It starts at the log's head: the caches begin empty.
func (s *Service) Follow(ctx context.Context) {
	t := time.NewTicker(s.cfg.FollowInterval)
	defer t.Stop()
	s.follower.flushed = time.Now() // key use is first written a minute from now
	for {
		s.followOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) followOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadTimeout)
	defer cancel()
	err := s.pollChanges(ctx)
	f := &s.follower
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.status.Error = err.Error()
		return
	}
	f.status = FollowerStatus{Started: true, LastSeq: f.last, LastPoll: time.Now()}
}

// pollChanges applies the change-log rows not applied yet.
func (s *Service) pollChanges(ctx context.Context) error {
	f := &s.follower
	if f.seen == nil {
		// The caches start empty: what is in the log already needs no applying, but the
		// window behind the head must count as seen, or the next poll would apply it.
		head, err := s.erp.ChangeHead(ctx)
		if err != nil {
			return err
		}
		old, err := s.erp.Changes(ctx, max(0, head-followWindow), followWindow)
		if err != nil {
			return err
		}
		f.last, f.seen = head, map[int64]struct{}{}
		for _, c := range old {
			f.seen[c.Seq] = struct{}{}
		}
		return nil
	}
	from := max(0, f.last-followWindow)
	for {
		changes, err := s.erp.Changes(ctx, from, followBatch)
		if err != nil {
			return err
		}
		for _, c := range changes {
			if _, done := f.seen[c.Seq]; done {
				continue
			}
			s.invalidate(c)
			f.reload = f.reload || c.Entity == erp.ChangeMappings || c.Entity == erp.ChangeAll
			f.reloadKeys = f.reloadKeys || c.Entity == erp.ChangeKeys || c.Entity == erp.ChangeAll
			f.seen[c.Seq] = struct{}{}
			f.last = max(f.last, c.Seq)
		}
		if len(changes) < followBatch {
			break
		}
		from = changes[len(changes)-1].Seq
	}
	for seq := range f.seen {
		if seq <= f.last-followWindow {
			delete(f.seen, seq)
		}
	}
	if f.reload {
		if err := s.LoadMappings(ctx); err != nil {
			return err // f.reload stays set: the next poll tries again
		}
		f.reload = false
	}
	if f.reloadKeys || time.Since(f.flushed) >= keyUseInterval {
		// Before a reload too: a revoked key leaves the keyring with its last use.
		f.flushed = time.Now()
		if err := s.flushKeyUse(ctx); err != nil {
			s.log.Warn("record API key use", "err", err) // a statistic: the next flush tries again
		}
	}
	if f.reloadKeys {
		if err := s.LoadKeys(ctx); err != nil {
			return err
		}
		f.reloadKeys = false
	}
	return nil
}

// Health is the state of the bridge's ERP protections, for /readyz.
type Health struct {
	Breakers map[Class]string
	Follower FollowerStatus
}

// Health returns each breaker's state and the change-log follower's lag.
func (s *Service) Health() Health {
	h := Health{Breakers: map[Class]string{}}
	for c, g := range s.guards {
		h.Breakers[c] = g.state()
	}
	f := &s.follower
	f.mu.Lock()
	defer f.mu.Unlock()
	h.Follower = f.status
	if h.Follower.Started {
		h.Follower.Lag = time.Now().Sub(h.Follower.LastPoll)
	}
	return h
}
