package storetest

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// runConsole checks the web console's links and sessions: a link works once
// (of racing redeemers exactly one), neither works past its expiry, a
// session is not a link, and signing out ends a session.
func runConsole(t *testing.T, open func(t *testing.T) server.Store) {
	ctx := context.Background()
	t.Run("console tokens", func(t *testing.T) {
		st := open(t)
		site := &server.Site{ID: uuid.NewString(), Name: "Harbour Medical", PMSType: wire.PMSBestPractice}
		_, hash := server.NewSecret()
		mustCode(t, "", st.CreateSite(ctx, site, hash))
		now := time.Now()

		_, _, err := server.IssueConsoleLink(ctx, st, server.ConsolePractice, uuid.NewString(), 0, now)
		mustCode(t, server.ENOTFOUND, err)
		_, _, err = server.IssueConsoleLink(ctx, st, server.ConsolePractice, site.ID, 48*time.Hour, now)
		mustCode(t, server.EINVALID, err)
		path, expires, err := server.IssueConsoleLink(ctx, st, server.ConsolePractice, site.ID, 0, now)
		mustCode(t, "", err)
		if want := now.Add(server.DefaultConsoleLinkTTL).Truncate(time.Second); !expires.Equal(want.UTC()) {
			t.Fatalf("expires %v, want %v", expires, want)
		}
		link := server.HashConsoleToken(path[len(server.ConsoleLinkPath):])

		// Looking does not use it; past its expiry it is gone.
		got, err := st.ConsoleToken(ctx, link, now)
		mustCode(t, "", err)
		if !got.Link || got.Role != server.ConsolePractice || got.SubjectID != site.ID || !got.Expires.Equal(expires) {
			t.Fatalf("link = %+v", got)
		}
		_, err = st.ConsoleToken(ctx, link, expires)
		mustCode(t, server.ENOTFOUND, err)
		_, err = st.RedeemConsoleLink(ctx, link, expires)
		mustCode(t, server.ENOTFOUND, err)

		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if l, err := st.RedeemConsoleLink(ctx, link, now); err == nil && l.SubjectID == site.ID {
					wins.Add(1)
				} else if server.ErrorCode(err) != server.ENOTFOUND {
					t.Errorf("redeem: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d redeemers got the link, want 1", wins.Load())
		}
		_, err = st.ConsoleToken(ctx, link, now)
		mustCode(t, server.ENOTFOUND, err)

		if got.Credential != nil {
			t.Fatalf("a link's credential: %x", got.Credential)
		}
		session, err := server.NewConsoleToken(ctx, st, false, server.ConsolePractice, site.ID, hash, now.Add(time.Hour))
		mustCode(t, "", err)
		sh := server.HashConsoleToken(session)
		_, err = st.RedeemConsoleLink(ctx, sh, now)
		mustCode(t, server.ENOTFOUND, err) // a session is not a link
		if got, err := st.ConsoleToken(ctx, sh, now); err != nil || got.Link || !bytes.Equal(got.Credential, hash) {
			t.Fatalf("session = %+v, %v", got, err)
		}
		mustCode(t, "", st.DeleteConsoleToken(ctx, sh))
		_, err = st.ConsoleToken(ctx, sh, now)
		mustCode(t, server.ENOTFOUND, err)
		mustCode(t, "", st.DeleteConsoleToken(ctx, sh))
		_, err = server.NewConsoleToken(ctx, st, false, server.ConsoleIntegrator, uuid.NewString(), nil, now.Add(time.Hour))
		mustCode(t, server.ENOTFOUND, err)
	})
}
