package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"fhirlink/mappings/bppremier/bpsynth"
	"fhirlink/mappings/zedmed/zedsynth"
	"fhirlink/server/fhirlinktest"
)

// TestPracticeZoneMatchesItsAddress: the synthetic practices are in the
// state whose time zone they are run in (the agent's default, which the
// tests use), so their times carry their own offsets (issue 17: the Bp
// practice was in the NT with Sydney times).
func TestPracticeZoneMatchesItsAddress(t *testing.T) {
	bpDSN, _ := bpPractice(t)
	zedPath, _ := zedPractice(t)
	for _, c := range []struct {
		name, zone string
		opt        fhirlinktest.Options
	}{
		{"Bp Premier", bpsynth.Small().TimeZone(), fhirlinktest.Options{Engine: "postgres", DSN: bpDSN}},
		{"Zedmed", zedsynth.Small().TimeZone(), fhirlinktest.Options{Engine: "sqlite", DSN: zedPath, PMSType: "Zedmed", Catalogue: zedsynth.CatalogueMain}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The agent's default zone is the one every test runs the
			// practices in.
			if c.zone != "Australia/Sydney" {
				t.Fatalf("the practice's zone is %s, the agent's default Australia/Sydney", c.zone)
			}
			c.opt.TimeZone = c.zone
			env := fhirlinktest.Start(t, c.opt)
			states := 0
			for _, typ := range []string{"Organization", "Location"} {
				for _, e := range search(t, env, typ).Entry {
					var r struct {
						ID      string
						Address []struct{ State string }
					}
					json.Unmarshal(e.Resource, &r)
					for _, a := range r.Address {
						states++
						if z := bpsynth.TimeZone(a.State); z != c.zone {
							t.Errorf("%s/%s is in %q (zone %q), the practice runs in %s", typ, r.ID, a.State, z, c.zone)
						}
					}
				}
			}
			if states == 0 {
				t.Fatal("no Organization or Location has an address state")
			}
			// Appointment times carry the zone's offset on their date.
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			b := search(t, env, "Appointment?date=ge2026-06-15&_count=5")
			for _, e := range b.Entry {
				var a struct{ Start string }
				json.Unmarshal(e.Resource, &a)
				at, err := time.Parse(time.RFC3339, a.Start)
				if err != nil {
					t.Fatalf("start %q: %v", a.Start, err)
				}
				_, got := at.Zone()
				if _, want := at.In(loc).Zone(); got != want {
					t.Errorf("appointment start %s: offset %d s, %s has %d s", a.Start, got, c.zone, want)
				}
			}
			if len(b.Entry) == 0 {
				t.Fatal("no appointments")
			}
		})
	}
}
