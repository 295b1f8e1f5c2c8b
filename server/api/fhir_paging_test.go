package api_test

import (
	"slices"
	"testing"

	"fhirlink/server/fhirlinktest"
)

// TestFHIRSelfLinkIsThePageItself walks a few searches of each PMS page by
// page: the self link of every page is the URL the page was fetched with,
// and fetching it again gives the same page (issue 17: pages reached
// through a next link carried the first page's URL).
func TestFHIRSelfLinkIsThePageItself(t *testing.T) {
	bp, _ := fhirEnv(t)
	zed, _ := zedEnv(t, nil)
	for _, c := range []struct {
		name  string
		env   *fhirlinktest.Env
		paths []string
	}{
		{"Bp Premier", bp, []string{"Patient?_count=7", "Observation?_count=25", "Condition?_count=10&_sort=_id",
			"Appointment?date=ge2026-01-01&_count=10&_include=Appointment:patient", "Practitioner?_count=2"}},
		{"Zedmed", zed, []string{"Patient?family=s&_count=3", "Observation?_count=25", "Condition?_count=10",
			"Appointment?date=ge2026-06-01&_count=10&_include=Appointment:patient", "Practitioner?_count=2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, first := range c.paths {
				fetched := c.env.SiteURL() + "/fhir/R4/" + first
				for page := 1; page <= 3 && fetched != ""; page++ {
					b := search(t, c.env, fetched)
					self := b.link("self")
					if page > 1 && self != fetched {
						t.Fatalf("%s page %d: self link\n  %s\nis not the URL it was fetched with\n  %s", first, page, self, fetched)
					}
					again := search(t, c.env, self)
					if got, want := again.ids(t, "match"), b.ids(t, "match"); !slices.Equal(got, want) || len(want) == 0 {
						t.Fatalf("%s page %d: fetching self gave %v, the page has %v", first, page, got, want)
					}
					if (again.link("next") == "") != (b.link("next") == "") {
						t.Fatalf("%s page %d: fetching self changed whether there is a next page", first, page)
					}
					fetched = b.link("next")
					if page == 1 && fetched == "" {
						t.Fatalf("%s has one page only: not a useful test", first)
					}
				}
			}
		})
	}
}
