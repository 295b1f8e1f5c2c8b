package api_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"fhirlink/fhir/fhirvalidate"
	"fhirlink/server/api"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirlinktest"
)

// patientRef finds the Patient references of a resource's JSON.
var patientRef = regexp.MustCompile(`"reference":"Patient/([^"/]+)"`)

// referencedPatients are the patient ids the resources refer to.
func referencedPatients(byType map[string][]json.RawMessage) map[string]string {
	refs := map[string]string{} // id → a type referring to it
	for typ, rs := range byType {
		for _, r := range rs {
			for _, m := range patientRef.FindAllSubmatch(r, -1) {
				refs[string(m[1])] = typ
			}
		}
	}
	return refs
}

// checkSelfContained checks that every Patient reference of an export
// resolves in its Patient file, and returns the file's ids (exported checks
// each is there once).
func checkSelfContained(t *testing.T, byType map[string][]json.RawMessage) []string {
	t.Helper()
	ids := exportedIDs(byType["Patient"])
	refs := referencedPatients(byType)
	missing := 0
	for id, typ := range refs {
		if !slices.Contains(ids, id) {
			if missing++; missing <= 5 {
				t.Errorf("%s refers to Patient/%s, which is not in the export's Patient file", typ, id)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d referenced patients missing from the Patient file of %d", missing, len(ids))
	}
	return ids
}

// validateExport runs every exported resource through the validators.
func validateExport(t *testing.T, byType map[string][]json.RawMessage) {
	t.Helper()
	for _, rs := range byType {
		for batch := range slices.Chunk(rs, 500) {
			fhirvalidate.Resources(t, batch...)
		}
	}
}

// TestFHIRExportIsSelfContained: every patient an exported resource refers
// to is in the Patient file, once, inactive and deceased ones included, for
// both PMS, at system and patient level and with _since (issue 17: other
// files referred to patients missing from the Patient file).
func TestFHIRExportIsSelfContained(t *testing.T) {
	configure := func(s *api.Server) {
		s.Exports = &bulk.Manager{PollInterval: exportPoll}
	}
	dsn, bpDB := bpPractice(t)
	bp := fhirlinktest.Start(t, fhirlinktest.Options{Engine: "postgres", DSN: dsn, Configure: configure})
	zed, zedDB := zedEnv(t, configure)
	for _, c := range []struct {
		name     string
		env      *fhirlinktest.Env
		inactive []string // live patients the default search leaves out
	}{
		{"Bp Premier", bp, dbIDs(t, bpDB, `SELECT "INTERNALID"::text FROM "PATIENTS" WHERE "RECORDSTATUS" = 1 AND "PATIENTSTATUS" <> 1`)},
		{"Zedmed", zed, dbIDs(t, zedDB, `SELECT CAST(PATIENT_ID AS TEXT) FROM PATIENT WHERE DELETED = 0 AND STATUS <> 1`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := awaitExport(t, c.env, kickoff(t, c.env, "$export"))
			if len(m.Error) != 0 {
				t.Errorf("errors in a clean export: %+v", m.Error)
			}
			byType := exported(t, c.env, m)
			ids := checkSelfContained(t, byType)
			// Inactive patients are in only when referred to: the file is
			// the active patients plus the referenced ones, nothing else.
			refs := referencedPatients(byType)
			added := 0
			for _, id := range c.inactive {
				if _, ok := refs[id]; ok {
					added++
					if !slices.Contains(ids, id) {
						t.Errorf("inactive Patient/%s is referenced but not exported", id)
					}
				} else if slices.Contains(ids, id) {
					t.Errorf("inactive Patient/%s is exported without being referenced", id)
				}
			}
			if added == 0 {
				t.Errorf("no inactive patient is referenced by the export (%d inactive): not a useful test", len(c.inactive))
			}
			t.Logf("%d patients exported, %d of them inactive and referenced", len(ids), added)
			validateExport(t, byType)

			// Patient level, some types only.
			m = awaitExport(t, c.env, kickoff(t, c.env, "Patient/$export?_type=Observation,Patient"))
			checkSelfContained(t, exported(t, c.env, m))

			// Without Patient in _type, no Patient file.
			m = awaitExport(t, c.env, kickoff(t, c.env, "$export?_type=Condition"))
			if got := m.types(); !slices.Equal(got, []string{"Condition"}) {
				t.Errorf("_type=Condition exported %v", got)
			}
		})
	}

	// _since: the referenced patients are in even when they did not
	// change, and the Condition file still holds only changed conditions.
	since := "2026-01-01T00:00:00+10:00"
	m := awaitExport(t, bp, kickoff(t, bp, "$export?_type=Condition,Patient&_since="+url.QueryEscape(since)))
	byType := exported(t, bp, m)
	checkSelfContained(t, byType)
	sinceT, _ := time.Parse(time.RFC3339, since)
	unchanged := 0
	for _, r := range byType["Patient"] {
		var v struct{ Meta struct{ LastUpdated string } }
		json.Unmarshal(r, &v)
		if lu, err := time.Parse(time.RFC3339Nano, v.Meta.LastUpdated); err != nil || lu.Before(sinceT) {
			unchanged++
		}
	}
	if len(byType["Condition"]) == 0 || unchanged == 0 {
		t.Errorf("_since=%s: %d conditions, %d unchanged referenced patients: not a useful test", since, len(byType["Condition"]), unchanged)
	}
	validateExport(t, byType)
}
