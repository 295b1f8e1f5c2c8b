package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"fhirlink/server/api"
	"fhirlink/server/fhirlinktest"
)

// summaryFacts are a few elements of the FHIR R4 summary (isSummary) and a
// few outside it, per type; the fhir package checks its whole table
// against the R4 definitions.
var summaryFacts = map[string]struct{ in, out []string }{
	"Patient":      {in: []string{"identifier", "name", "birthDate", "gender"}, out: []string{"generalPractitioner", "communication", "extension"}},
	"Observation":  {in: []string{"status", "code", "subject", "effectiveDateTime"}, out: []string{"category"}},
	"Appointment":  {in: []string{"status", "start"}, out: []string{"minutesDuration", "comment"}},
	"Condition":    {in: []string{"code", "subject"}, out: []string{"category", "note"}},
	"Practitioner": {in: []string{"name"}, out: []string{"qualification"}},
}

// TestFHIRSummaryTrue: _summary=true gives every type of both PMS with
// the summary elements the full resource has (and the mandatory ones)
// only, tagged SUBSETTED, valid; _summary=data drops the narrative only;
// the self link carries _summary (issue 17: _summary=true answered 400).
func TestFHIRSummaryTrue(t *testing.T) {
	bp, _ := fhirEnv(t)
	zed, _ := zedEnv(t, nil)
	for _, c := range []struct {
		name string
		env  *fhirlinktest.Env
		pms  string
		slot string
	}{
		{"Bp Premier", bp, "BestPractice", "&start=ge2026-06-15&start=lt2026-06-22"},
		{"Zedmed", zed, "Zedmed", "&start=ge2026-06-15&start=lt2026-06-22"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tested := map[string]bool{}
			for _, res := range api.DefaultMappings()[c.pms].Resources {
				typ := res.Decl().Type
				query := typ + "?_count=15"
				if typ == "Slot" {
					schedules := search(t, c.env, "Schedule").ids(t, "match")
					if len(schedules) == 0 {
						t.Fatal("no schedules")
					}
					query = "Slot?schedule=Schedule/" + schedules[0] + c.slot + "&_count=15"
				}
				full := search(t, c.env, query)
				sum := search(t, c.env, query+"&_summary=true")
				if len(full.Entry) == 0 {
					t.Errorf("%s: no resources: not a useful test", query)
					continue
				}
				if len(sum.Entry) != len(full.Entry) {
					t.Fatalf("%s: _summary=true gave %d entries, the full search %d", query, len(sum.Entry), len(full.Entry))
				}
				if !strings.Contains(sum.link("self"), "_summary=true") || (sum.link("next") != "" && !strings.Contains(search(t, c.env, sum.link("next")).link("self"), "_page_token=")) {
					t.Errorf("%s: self link %s lacks _summary=true", query, sum.link("self"))
				}
				for i := range full.Entry {
					f, s := topLevel(t, full.Entry[i].Resource), topLevel(t, sum.Entry[i].Resource)
					if !subsetted(sum.Entry[i].Resource) {
						t.Fatalf("%s: summary not tagged SUBSETTED: %s", typ, sum.Entry[i].Resource)
					}
					for k := range s {
						if _, ok := f[k]; !ok && k != "meta" {
							t.Fatalf("%s: summary has %s, the full resource has not", typ, k)
						}
					}
					facts := summaryFacts[typ]
					for _, k := range facts.in {
						if _, ok := f[k]; ok {
							if _, ok := s[k]; !ok {
								t.Errorf("%s: summary lacks the summary element %s", typ, k)
							}
						}
					}
					for _, k := range facts.out {
						if _, ok := s[k]; ok {
							t.Errorf("%s: summary has %s, which is not a summary element", typ, k)
						}
						if _, ok := f[k]; ok {
							tested[typ+"."+k] = true
						}
					}
				}
				// data: all but the narrative (and meta for the tag).
				data := search(t, c.env, query+"&_summary=data")
				for i := range full.Entry {
					f, d := topLevel(t, full.Entry[i].Resource), topLevel(t, data.Entry[i].Resource)
					delete(f, "text")
					f["meta"] = nil
					if !sameKeys(f, d) || !subsetted(data.Entry[i].Resource) {
						t.Fatalf("%s: _summary=data kept %v of %v", typ, slices.Sorted(maps.Keys(d)), slices.Sorted(maps.Keys(f)))
					}
				}
			}
			for _, want := range []string{"Patient.generalPractitioner", "Observation.category"} {
				if !tested[want] {
					t.Errorf("no full resource had %s: the summary test did not see it dropped", want)
				}
			}
			// _summary=count still counts; _summary with _elements, and
			// _summary=text, are refused.
			if b := search(t, c.env, "Patient?_summary=count"); b.Total == nil || len(b.Entry) != 0 {
				t.Errorf("_summary=count: total %v, %d entries", b.Total, len(b.Entry))
			}
			for _, q := range []string{"Patient?_summary=true&_elements=name", "Patient?_summary=text"} {
				if status, _, body := c.env.FHIR(http.MethodGet, q, ""); status != http.StatusBadRequest || !strings.Contains(string(body), "OperationOutcome") {
					t.Errorf("%s: %d %s, want 400", q, status, body)
				}
			}
		})
	}
	// The CapabilityStatement says so.
	_, _, body := bp.FHIR(http.MethodGet, "metadata", "")
	if !strings.Contains(string(body), "true (the summary elements") {
		t.Errorf("metadata does not document _summary=true")
	}
}

func topLevel(t *testing.T, r json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func subsetted(r json.RawMessage) bool {
	var v struct {
		Meta struct {
			Tag []struct{ System, Code string }
		}
	}
	json.Unmarshal(r, &v)
	return slices.ContainsFunc(v.Meta.Tag, func(c struct{ System, Code string }) bool {
		return c.Code == "SUBSETTED" && c.System == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	})
}

func sameKeys(a, b map[string]json.RawMessage) bool {
	return slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
}
