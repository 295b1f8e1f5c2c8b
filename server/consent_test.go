package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/wire"
)

// codeStore answers pairing and enrollment codes with err, after calling
// accept on site; the rest of the store is absent.
type codeStore struct {
	Store
	site    *Site
	err     error
	created time.Time
}

func (f *codeStore) CreatePairingCode(_ context.Context, _ string, _ []byte, expires time.Time) error {
	f.created = expires
	return f.err
}

func (f *codeStore) RedeemPairingCode(_ context.Context, _ []byte, _ string, _ time.Time, accept func(*Site) error) (*Site, error) {
	if f.err != nil {
		return nil, f.err
	}
	if err := accept(f.site); err != nil {
		return nil, err
	}
	return f.site, nil
}

func (f *codeStore) RedeemEnrollmentCode(context.Context, []byte, []byte, time.Time) (string, error) {
	return f.site.ID, f.err
}

func TestIssuePairingCodeTTL(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 500, time.UTC)
	st := &codeStore{}
	if _, exp, err := IssuePairingCode(context.Background(), st, "s", 0, now); err != nil || !exp.Equal(now.Add(DefaultPairingCodeTTL).Truncate(time.Second)) || !st.created.Equal(exp) {
		t.Fatalf("default: %v %v", exp, err)
	}
	for _, secs := range []int64{59, 30*24*3600 + 1, -5} {
		if _, _, err := IssuePairingCode(context.Background(), st, "s", secs, now); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "use 60 to 2592000") {
			t.Errorf("ttl %d: %v", secs, err)
		}
	}
}

func TestPairWithCode(t *testing.T) {
	site := &Site{ID: "s", PMSType: wire.PMSBestPractice, PracticeManagementSiteID: "BP-1"}
	ctx, now := context.Background(), time.Now()
	if got, err := PairWithCode(ctx, &codeStore{site: site}, "c", "i", "BP-1", "Best Practice", now); err != nil || got != site {
		t.Fatalf("matching identifiers: %v %v", got, err)
	}
	for _, tc := range []struct {
		store           *codeStore
		pmsID, pmsName  string
		code, inMessage string
	}{
		{&codeStore{site: site}, "BP-2", "", ENOTFOUND, "another practice"},
		{&codeStore{site: site}, "", "Zedmed", ENOTFOUND, "another practice than practiceManagementSiteId \"\" (Zedmed)"},
		{&codeStore{site: site}, "", "Nope", EINVALID, "practiceManagementName must be one of"},
		{&codeStore{err: Errorf(ENOTFOUND, "x")}, "", "", ENOTFOUND, "unknown pairing code"},
		{&codeStore{err: Errorf(ECONFLICT, "x")}, "", "", ECONFLICT, "already used"},
		{&codeStore{err: Errorf(EFORBIDDEN, "x")}, "", "", EINVALID, "expired"},
	} {
		_, err := PairWithCode(ctx, tc.store, "c", "i", tc.pmsID, tc.pmsName, now)
		if ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.inMessage) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	// A site without a recorded PMS id matches any.
	if _, err := PairWithCode(ctx, &codeStore{site: &Site{ID: "s", PMSType: wire.PMSZedmed}}, "c", "i", "Z-9", "Zedmed", now); err != nil {
		t.Fatal(err)
	}
}

func TestEnroll(t *testing.T) {
	ctx, now := context.Background(), time.Now()
	id, secret, err := Enroll(ctx, &codeStore{site: &Site{ID: "s"}}, "ABCD", now)
	if err != nil || id != "s" || len(secret) < 40 {
		t.Fatalf("%q %q %v", id, secret, err)
	}
	for code, want := range map[string]string{ENOTFOUND: EUNAUTHORIZED, ECONFLICT: ECONFLICT, EFORBIDDEN: EFORBIDDEN, EINTERNAL: EINTERNAL} {
		if _, _, err := Enroll(ctx, &codeStore{site: &Site{}, err: Errorf(code, "x")}, "ABCD", now); ErrorCode(err) != want {
			t.Errorf("store %s: %v, want %s", code, err, want)
		}
	}
}
