package bridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Browser tokens (DESIGN "Browser storefronts"): a storefront's server mints, with its
// key, a short-lived token for one account that its pages may hold. A token is
// TokenPrefix + base64url(claims) + "." + base64url(HMAC-SHA256(secret, that claims text)).
// Nothing is stored: every replica with the secret verifies it, and it lives no longer
// than the key that minted it — a revoked or expired key's tokens stop working with it.

// TokenPrefix starts every browser token, as "sk_" starts a storefront key.
const TokenPrefix = "bt_"

// browserScopes are what a token may carry: the storefront routes, never minting more
// tokens.
var browserScopes = []string{"availability:read", "prices:read", "credit:read", "quotes:write", "orders:write", "orders:read"}

// Token is a minted browser token.
type Token struct {
	Token     string
	Account   string
	Scopes    []string
	ExpiresAt time.Time
}

type tokenClaims struct {
	Key     string   `json:"k"` // the minting key's ID
	Account string   `json:"a"`
	Expires int64    `json:"e"` // Unix seconds
	Scopes  []string `json:"s"`
}

// MintToken returns a token for one account of p's storefront, with the browser scopes
// p holds, that expires after the configured TTL (or with p's key, if sooner).
func (s *Service) MintToken(p *Principal, account string) (Token, error) {
	if err := storefront(p, account); err != nil {
		return Token{}, err
	}
	if err := scoped(p, "tokens:write"); err != nil {
		return Token{}, err
	}
	c := tokenClaims{Key: strings.TrimPrefix(p.KeyID, "key:"), Account: account}
	for _, sc := range browserScopes {
		if p.Can(sc) {
			c.Scopes = append(c.Scopes, sc)
		}
	}
	exp := time.Now().Add(s.cfg.TokenTTL).Truncate(time.Second)
	if !p.expires.IsZero() && p.expires.Before(exp) {
		exp = p.expires.Truncate(time.Second)
	}
	c.Expires = exp.Unix()
	raw, err := json.Marshal(c)
	if err != nil {
		return Token{}, err
	}
	claims := base64.RawURLEncoding.EncodeToString(raw)
	t := TokenPrefix + claims + "." + base64.RawURLEncoding.EncodeToString(s.sign(claims))
	return Token{Token: t, Account: account, Scopes: c.Scopes, ExpiresAt: exp.UTC()}, nil
}

func (s *Service) sign(claims string) []byte {
	m := hmac.New(sha256.New, s.tokenSecret)
	m.Write([]byte(claims))
	return m.Sum(nil)
}

// verifyToken returns the principal of a browser token: 401 if it is malformed,
// tampered with, expired, or its key is revoked or expired.
func (s *Service) verifyToken(ring *keyring, token string, now time.Time) (*Principal, error) {
	claims, sig, ok := strings.Cut(strings.TrimPrefix(token, TokenPrefix), ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(got, s.sign(claims)) { // hmac.Equal takes constant time
		return nil, Errorf(CodeUnauthorized, "invalid token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(claims)
	var c tokenClaims
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return nil, Errorf(CodeUnauthorized, "invalid token")
	}
	if exp := time.Unix(c.Expires, 0); !now.Before(exp) {
		return nil, Errorf(CodeUnauthorized, "this token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	key := ring.byID[c.Key]
	if key == nil || (!key.expires.IsZero() && now.After(key.expires)) || !key.Serves(c.Account) {
		return nil, Errorf(CodeUnauthorized, "the key that minted this token is revoked, expired or no longer serves its account")
	}
	p := &Principal{KeyID: "token:" + c.Key, Storefront: key.Storefront, accounts: map[string]bool{c.Account: true},
		scopes: map[string]bool{}, expires: time.Unix(c.Expires, 0)}
	for _, sc := range c.Scopes {
		if key.Can(sc) && slices.Contains(browserScopes, sc) { // a scope taken from the key since is gone
			p.scopes[sc] = true
		}
	}
	key.lastUsed.Store(now.Unix())
	return p, nil
}
