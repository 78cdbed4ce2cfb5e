package bridge

import (
	"context"
	"strings"
	"sync"

	"github.com/b2bridge/b2bridge/erp"
)

// Principal is who an API key speaks for: one storefront and the accounts it serves,
// or an admin.
type Principal struct {
	KeyID      string // names the key in the audit trail and logs, never the key itself
	Storefront string
	Admin      bool
	accounts   map[string]bool
}

// Serves reports whether the principal may act for the account.
func (p *Principal) Serves(account string) bool { return p != nil && p.accounts[account] }

// keyring maps key hashes to principals. It is replaced whole on a reload; verified
// remembers the keys already hashed and found, so that a key is hashed once per reload
// (only valid keys: its size is bounded by the number of keys).
type keyring struct {
	byHash   map[string]*Principal
	verified sync.Map // key → *Principal
}

// LoadKeys reads the API keys from the ERP; requests see the new set at once.
func (s *Service) LoadKeys(ctx context.Context) error {
	keys, err := s.erp.APIKeys(ctx)
	if err != nil {
		return err
	}
	ring := &keyring{byHash: make(map[string]*Principal, len(keys))}
	for _, k := range keys {
		p := &Principal{KeyID: "key:" + k.Hash[:12], Storefront: k.Storefront, Admin: k.Admin,
			accounts: make(map[string]bool, len(k.Accounts))}
		for _, a := range k.Accounts {
			p.accounts[a] = true
		}
		ring.byHash[k.Hash] = p
	}
	s.keys.Store(ring)
	return nil
}

// Authenticate returns the principal of an API key.
func (s *Service) Authenticate(key string) (*Principal, error) {
	ring := s.keys.Load()
	if key == "" || ring == nil {
		return nil, Errorf(CodeUnauthorized, "an API key is required: Authorization: Bearer <key>")
	}
	if p, ok := ring.verified.Load(key); ok {
		return p.(*Principal), nil
	}
	p, ok := ring.byHash[erp.HashKey(key)]
	if !ok {
		return nil, Errorf(CodeUnauthorized, "unknown API key")
	}
	ring.verified.Store(strings.Clone(key), p) // the caller's string may live in a reused buffer
	return p, nil
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
