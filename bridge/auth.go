package bridge

import (
	"context"
	"crypto/subtle"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/b2bridge/b2bridge/erp"
)

// Principal is who an API key speaks for: one storefront and the accounts it serves,
// or an admin; with the scopes it holds and until when.
type Principal struct {
	KeyID      string // names the key in the audit trail and logs, never the key itself
	Storefront string
	Admin      bool
	accounts   map[string]bool
	scopes     map[string]bool
	hash       string
	expires    time.Time // zero: never
	lastUsed   atomic.Int64
}

// Serves reports whether the principal may act for the account.
func (p *Principal) Serves(account string) bool { return p != nil && p.accounts[account] }

// Can reports whether the principal holds the scope.
func (p *Principal) Can(scope string) bool { return p != nil && p.scopes[scope] }

// keyring maps key hashes to principals. It is replaced whole on a reload; verified
// remembers the keys already hashed and found, so that a key is hashed once per reload
// (only valid keys: its size is bounded by the number of keys).
type keyring struct {
	byHash   map[string]*Principal
	byID     map[string]*Principal // storefront keys, for the tokens they mint
	verified sync.Map              // key → *Principal
}

// LoadKeys reads the API keys from the ERP; requests see the new set at once, and a key
// revoked in the ERP stops working.
func (s *Service) LoadKeys(ctx context.Context) error {
	keys, err := s.erp.APIKeys(ctx)
	if err != nil {
		return err
	}
	old := s.keys.Load()
	ring := &keyring{byHash: make(map[string]*Principal, len(keys)), byID: make(map[string]*Principal, len(keys))}
	for _, k := range keys {
		p := &Principal{KeyID: "key:" + k.ID(), Storefront: k.Storefront, Admin: k.Admin, hash: k.Hash,
			accounts: make(map[string]bool, len(k.Accounts)), scopes: map[string]bool{}}
		for _, a := range k.Accounts {
			p.accounts[a] = true
		}
		scopes := k.Scopes
		if len(scopes) == 0 {
			scopes = erp.StorefrontScopes
			if k.Admin {
				scopes = erp.AdminScopes
			}
		}
		for _, sc := range scopes {
			p.scopes[sc] = true
		}
		if k.ExpiresAt != nil {
			p.expires = *k.ExpiresAt
		}
		if old != nil && old.byHash[k.Hash] != nil { // a use not yet written to the ERP survives the reload
			p.lastUsed.Store(old.byHash[k.Hash].lastUsed.Load())
		}
		ring.byHash[k.Hash] = p
		if !k.Admin {
			ring.byID[k.ID()] = p
		}
	}
	s.keys.Store(ring)
	return nil
}

// Authenticate returns the principal of an API key or a browser token: 401 for none,
// an unknown or revoked key, an expired one, or a token that fails verifyToken.
func (s *Service) Authenticate(key string) (*Principal, error) {
	ring := s.keys.Load()
	if key == "" || ring == nil {
		return nil, Errorf(CodeUnauthorized, "an API key is required: Authorization: Bearer <key>")
	}
	if strings.HasPrefix(key, TokenPrefix) {
		return s.verifyToken(ring, key, time.Now())
	}
	var p *Principal
	if v, ok := ring.verified.Load(key); ok {
		p = v.(*Principal)
	} else {
		hash := erp.HashKey(key)
		found, ok := ring.byHash[hash]
		// The map finds the hash; the comparison that admits the key takes constant time.
		if !ok || subtle.ConstantTimeCompare([]byte(found.hash), []byte(hash)) != 1 {
			return nil, Errorf(CodeUnauthorized, "unknown or revoked API key")
		}
		p = found
		ring.verified.Store(strings.Clone(key), p) // the caller's string may live in a reused buffer
	}
	now := time.Now()
	if !p.expires.IsZero() && now.After(p.expires) {
		return nil, Errorf(CodeUnauthorized, "this API key expired at %s", p.expires.UTC().Format(time.RFC3339))
	}
	p.lastUsed.Store(now.Unix()) // written to the ERP once a minute (flushKeyUse)
	return p, nil
}

// flushKeyUse records in the ERP when each key was last used, for keys list.
func (s *Service) flushKeyUse(ctx context.Context) error {
	ring := s.keys.Load()
	if ring == nil {
		return nil
	}
	used := map[string]time.Time{}
	for hash, p := range ring.byHash {
		if t := p.lastUsed.Swap(0); t != 0 {
			used[hash] = time.Unix(t, 0).UTC()
		}
	}
	if len(used) == 0 {
		return nil
	}
	return s.erp.TouchKeys(ctx, used)
}

// storefront checks that p is a storefront key; account, if not empty, must be one of
// its accounts. It runs before anything is read (truth rule 7).
func storefront(p *Principal, account string) error {
	if p == nil || p.Admin || p.Storefront == "" {
		return Errorf(CodeForbidden, "a storefront key is required")
	}
	if account != "" && !p.Serves(account) {
		return Errorf(CodeForbidden, "this key does not serve account %q", account)
	}
	return nil
}

// scoped checks that p holds the scope a route needs.
func scoped(p *Principal, scope string) error {
	if scope != "" && !p.Can(scope) {
		return Errorf(CodeForbidden, "this key lacks the %s scope", scope)
	}
	return nil
}
