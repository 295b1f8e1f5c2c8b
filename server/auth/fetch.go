package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits of fetching a client's JWKS.
const (
	// DefaultJWKSTimeout bounds one fetch, connection included.
	DefaultJWKSTimeout = 5 * time.Second
	// maxJWKSBytes bounds a JWKS document.
	maxJWKSBytes = 64 << 10
	// maxJWKSCache caps how long a fetched set is reused, whatever its
	// Cache-Control says.
	maxJWKSCache = 24 * time.Hour
	// DefaultRefetchInterval is how often at most an unknown kid makes the
	// server refetch a cached set: once per interval and URL, so a stream of
	// made-up kids cannot turn the server against the client's host.
	DefaultRefetchInterval = 10 * time.Second
)

// jwksCache fetches clients' key sets by URL and keeps them as long as
// their Cache-Control max-age allows (no-store, no-cache or no max-age: not
// kept).
type jwksCache struct {
	client          *http.Client
	now             func() time.Time
	refetchInterval time.Duration

	mu      sync.Mutex
	entries map[string]*jwksEntry
}

type jwksEntry struct {
	mu      sync.Mutex // held while fetching, so one URL is fetched once at a time
	set     *KeySet
	expires time.Time
	forced  time.Time // the last refetch for an unknown kid
}

func (c *jwksCache) entry(u string) *jwksEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*jwksEntry{}
	}
	e := c.entries[u]
	if e == nil {
		e = &jwksEntry{}
		c.entries[u] = e
	}
	return e
}

// get returns the set at u, from the cache while it is fresh. With
// unknownKid, the caller found no key for its kid in the set get returned
// before: the set is fetched again unless that was done less than the
// refetch interval ago. fetched reports whether this call fetched.
func (c *jwksCache) get(ctx context.Context, u string, unknownKid bool) (set *KeySet, fetched bool, err error) {
	e := c.entry(u)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := c.now()
	if unknownKid {
		if !e.forced.IsZero() && now.Sub(e.forced) < c.refetchInterval {
			return nil, false, errNoKey
		}
		e.forced = now
	} else if e.set != nil && now.Before(e.expires) {
		return e.set, false, nil
	}
	set, ttl, err := c.fetch(ctx, u)
	if err != nil {
		return nil, true, err
	}
	e.set, e.expires = set, now.Add(ttl)
	return set, true, nil
}

func (c *jwksCache) fetch(ctx context.Context, u string) (*KeySet, time.Duration, error) {
	if err := ValidateJWKSURL(u); err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("JWKS URL: %v", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := c.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, 0, errors.New("fetching the client's JWKS timed out")
		}
		return nil, 0, errors.New("the client's JWKS URL could not be fetched")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("the client's JWKS URL answered %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, 0, errors.New("reading the client's JWKS failed")
	}
	if len(body) > maxJWKSBytes {
		return nil, 0, fmt.Errorf("the client's JWKS is over %d bytes", maxJWKSBytes)
	}
	set, err := ParseKeySet(body)
	if err != nil {
		return nil, 0, err
	}
	return set, cacheFor(resp.Header.Get("Cache-Control")), nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// cacheFor is how long a response may be reused per its Cache-Control.
func cacheFor(cc string) time.Duration {
	var ttl time.Duration
	for d := range strings.SplitSeq(cc, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "no-store" || d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
			if err != nil || n <= 0 {
				return 0
			}
			ttl = maxJWKSCache
			if n < int64(maxJWKSCache/time.Second) {
				ttl = time.Duration(n) * time.Second
			}
		}
	}
	return ttl
}

// newJWKSClient is the bounded HTTP client fetching JWKS: a total timeout
// and no redirects (a redirect could point the server anywhere).
func newJWKSClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
}
