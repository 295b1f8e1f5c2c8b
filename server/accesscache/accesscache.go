// Package accesscache keeps in memory, on one server node, what every
// request reads before it runs: the integrator a key belongs to, the site,
// the integrator's access there (pairing, blocks, quarantine, write grant)
// and its quota overrides. Read from the state store, those were four
// statements per request, most of a 1-row passthrough query's added time.
//
// What is kept stays exactly as current as the store: the store counts
// every change to those tables, whoever makes it (this node, another node,
// the admin CLI writing to the store), in its access version
// ([server.Store.AccessVersion]). A request reads that version once
// ([Cache.Pin]) and is answered from memory only with what was read at the
// same version; any change empties the cache. So a revoked pairing, a
// rotated key, a block or a quarantine refuses the very next request on
// every node, as when each request read the store. Failures (an unknown
// key, a site that does not exist) are not kept: they are read again.
package accesscache

import (
	"context"
	"sync"

	"fhirlink/server"
)

// MaxEntries bounds what the cache holds; past it, what is read is not
// kept until the next change empties the cache.
const MaxEntries = 100_000

// Cache is a [server.Store] answering IntegratorByKeyHash, Site, Access and
// Quotas from memory while the store's access version stays the same; every
// other method is the store's own.
type Cache struct {
	server.Store

	mu      sync.Mutex
	version int64 // of what is kept; -1: nothing read yet
	n       int   // entries kept
	keys    map[string]*server.Integrator
	sites   map[string]*server.Site
	access  map[[2]string]server.Access
	quotas  map[string][]*server.Quota
}

// New returns a cache in front of st.
func New(st server.Store) *Cache { return &Cache{Store: st, version: -1} }

type pinKey struct{}

// Pin reads the store's access version and returns ctx carrying it: the
// cache's lookups under that ctx use it instead of reading it again, so a
// request costs one store read however many lookups it makes. Without a
// pinned ctx each lookup reads the version.
func (c *Cache) Pin(ctx context.Context) (context.Context, error) {
	v, err := c.AccessVersion(ctx)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, pinKey{}, v), nil
}

func (c *Cache) versionOf(ctx context.Context) (int64, error) {
	if v, ok := ctx.Value(pinKey{}).(int64); ok {
		return v, nil
	}
	return c.AccessVersion(ctx)
}

// lookup answers k from the map pick chooses when it was read at the
// request's version, else with load, keeping the result when that version
// is still the newest seen.
func lookup[K comparable, V any](ctx context.Context, c *Cache, pick func(*Cache) *map[K]V, k K, load func() (V, error)) (V, error) {
	v, err := c.versionOf(ctx)
	if err != nil {
		var zero V
		return zero, err
	}
	c.mu.Lock()
	if v > c.version { // a change since: drop everything
		c.version, c.n = v, 0
		c.keys, c.sites, c.access, c.quotas = nil, nil, nil, nil
	}
	if v == c.version {
		if x, ok := (*pick(c))[k]; ok {
			c.mu.Unlock()
			return x, nil
		}
	}
	c.mu.Unlock()
	// Read after the version: if the data changed in between, the version
	// has moved on too, and the next request reads again.
	x, err := load()
	if err != nil {
		return x, err
	}
	c.mu.Lock()
	if v == c.version && c.n < MaxEntries {
		m := pick(c)
		if *m == nil {
			*m = map[K]V{}
		}
		(*m)[k] = x
		c.n++
	}
	c.mu.Unlock()
	return x, nil
}

// IntegratorByKeyHash implements [server.Store]; the integrator returned
// is the caller's own copy.
func (c *Cache) IntegratorByKeyHash(ctx context.Context, hash []byte) (*server.Integrator, error) {
	in, err := lookup(ctx, c, func(c *Cache) *map[string]*server.Integrator { return &c.keys }, string(hash),
		func() (*server.Integrator, error) { return c.Store.IntegratorByKeyHash(ctx, hash) })
	if err != nil {
		return nil, err
	}
	cp := *in
	return &cp, nil
}

// Site implements [server.Store]; the site returned is the caller's own
// copy.
func (c *Cache) Site(ctx context.Context, id string) (*server.Site, error) {
	site, err := lookup(ctx, c, func(c *Cache) *map[string]*server.Site { return &c.sites }, id,
		func() (*server.Site, error) { return c.Store.Site(ctx, id) })
	if err != nil {
		return nil, err
	}
	cp := *site
	return &cp, nil
}

// Access implements [server.Store].
func (c *Cache) Access(ctx context.Context, integratorID, siteID string) (server.Access, error) {
	return lookup(ctx, c, func(c *Cache) *map[[2]string]server.Access { return &c.access }, [2]string{integratorID, siteID},
		func() (server.Access, error) { return c.Store.Access(ctx, integratorID, siteID) })
}

// Quotas implements [server.Store]. The overrides are shared: read them,
// do not change them.
func (c *Cache) Quotas(ctx context.Context, integratorID string) ([]*server.Quota, error) {
	return lookup(ctx, c, func(c *Cache) *map[string][]*server.Quota { return &c.quotas }, integratorID,
		func() ([]*server.Quota, error) { return c.Store.Quotas(ctx, integratorID) })
}
