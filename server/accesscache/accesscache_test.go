package accesscache_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/accesscache"
	"fhirlink/server/sqlite"
)

// counting counts the store reads the cache makes on a request's behalf.
type counting struct {
	server.Store
	reads atomic.Int64
}

func (c *counting) IntegratorByKeyHash(ctx context.Context, h []byte) (*server.Integrator, error) {
	c.reads.Add(1)
	return c.Store.IntegratorByKeyHash(ctx, h)
}

func (c *counting) Site(ctx context.Context, id string) (*server.Site, error) {
	c.reads.Add(1)
	return c.Store.Site(ctx, id)
}

func (c *counting) Access(ctx context.Context, integratorID, siteID string) (server.Access, error) {
	c.reads.Add(1)
	return c.Store.Access(ctx, integratorID, siteID)
}

func (c *counting) Quotas(ctx context.Context, integratorID string) ([]*server.Quota, error) {
	c.reads.Add(1)
	return c.Store.Quotas(ctx, integratorID)
}

// A request's checks are read from the store once, then from memory until
// any access changes; what changed is what the next request sees.
func TestKeptUntilAccessChanges(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site := &server.Site{ID: uuid.NewString(), Name: "S", PMSType: wire.PMSZedmed}
	in := &server.Integrator{ID: uuid.NewString(), Name: "I"}
	key, hash := server.NewSecret()
	for _, err := range []error{st.CreateSite(ctx, site, []byte("h")), st.CreateIntegrator(ctx, in),
		st.SetIntegratorKey(ctx, in.ID, server.KeyPrimary, hash), st.Pair(ctx, in.ID, site.ID)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	cs := &counting{Store: st}
	c := accesscache.New(cs)
	// request makes a request's four lookups and returns its access and how
	// many store reads it took.
	request := func() (server.Access, int64) {
		t.Helper()
		before := cs.reads.Load()
		ctx, err := c.Pin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.IntegratorByKeyHash(ctx, server.HashSecret(key))
		if err != nil || got.ID != in.ID {
			t.Fatalf("by key: %v %v", got, err)
		}
		got.Name = "changed by a caller" // a copy: the cache keeps its own
		if s, err := c.Site(ctx, site.ID); err != nil || s.ID != site.ID {
			t.Fatalf("site: %v %v", s, err)
		}
		acc, err := c.Access(ctx, in.ID, site.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Quotas(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		return acc, cs.reads.Load() - before
	}
	if acc, reads := request(); !acc.Allowed() || reads != 4 {
		t.Fatalf("first request: allowed %v, %d store reads; want true, 4", acc.Allowed(), reads)
	}
	if acc, reads := request(); !acc.Allowed() || reads != 0 {
		t.Fatalf("second request: allowed %v, %d store reads; want true, 0", acc.Allowed(), reads)
	}
	if got, _ := c.IntegratorByKeyHash(ctx, server.HashSecret(key)); got.Name != in.Name {
		t.Fatalf("kept integrator changed by a caller: %q", got.Name)
	}
	if err := st.Block(ctx, in.ID, site.ID); err != nil {
		t.Fatal(err)
	}
	if acc, reads := request(); acc.Allowed() || !acc.Blocked || reads != 4 {
		t.Fatalf("after a block: %+v, %d store reads; want blocked, 4", acc, reads)
	}
	// An unknown key is not kept: each try reads the store.
	for range 2 {
		before := cs.reads.Load()
		if _, err := c.IntegratorByKeyHash(ctx, []byte("unknown")); server.ErrorCode(err) != server.EUNAUTHORIZED {
			t.Fatalf("unknown key: %v", err)
		}
		if cs.reads.Load() != before+1 {
			t.Fatal("an unknown key was answered from memory")
		}
	}
}
