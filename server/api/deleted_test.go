package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"fhirlink/fhir/fhirvalidate"
)

// TestFHIRDeletedRecordsNeverServed: a Bp Premier row that is not live
// (REACTIONS.RECORDSTATUS 0, as AllergyIntolerance/21 and 28 in the demo
// practice) is deleted: read answers 404, and no search, _include,
// _revinclude or $export serves it.
func TestFHIRDeletedRecordsNeverServed(t *testing.T) {
	env, db := fhirEnv(t)
	gone := dbIDs(t, db, `SELECT r."RECORDID"::text FROM "REACTIONS" r JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID"
		WHERE r."RECORDSTATUS" <> 1 AND p."RECORDSTATUS" = 1 ORDER BY r."RECORDID"`)
	if len(gone) == 0 {
		t.Fatal("the practice has no deleted reaction")
	}
	owners := dbIDs(t, db, `SELECT DISTINCT r."INTERNALID"::text FROM "REACTIONS" r JOIN "PATIENTS" p ON p."INTERNALID" = r."INTERNALID"
		WHERE r."RECORDSTATUS" <> 1 AND p."RECORDSTATUS" = 1`)
	for _, id := range gone {
		status, _, body := env.FHIR(http.MethodGet, "AllergyIntolerance/"+id, "")
		if status != http.StatusNotFound {
			t.Errorf("AllergyIntolerance/%s (deleted): %d %s", id, status, body)
			continue
		}
		fhirvalidate.Resources(t, body)
	}
	served := func(what string, ids []string) {
		t.Helper()
		for _, id := range ids {
			if slices.Contains(gone, id) {
				t.Errorf("%s serves the deleted AllergyIntolerance/%s", what, id)
			}
		}
	}
	for _, pt := range owners {
		live := dbIDs(t, db, `SELECT "RECORDID"::text FROM "REACTIONS" WHERE "RECORDSTATUS" = 1 AND "INTERNALID" = $1`, pt)
		got := walk(t, env, "AllergyIntolerance?patient="+pt+"&_include=AllergyIntolerance:patient")
		var reactions []string
		for _, id := range got {
			if !strings.HasPrefix(id, "nka-") {
				reactions = append(reactions, id)
			}
		}
		if !sameSet(reactions, live) {
			t.Errorf("AllergyIntolerance?patient=%s: %v, the live reactions %v", pt, got, live)
		}
		b := search(t, env, "Patient?_id="+pt+"&_revinclude=AllergyIntolerance:patient")
		var revincluded []string
		for _, e := range b.Entry {
			if e.Search.Mode == "include" && strings.Contains(e.FullURL, "/AllergyIntolerance/") {
				revincluded = append(revincluded, e.FullURL[strings.LastIndex(e.FullURL, "/")+1:])
			}
		}
		served("Patient?_revinclude=AllergyIntolerance:patient", revincluded)
	}
	// Bulk export of the type.
	exp := exportEnv(t, 0)
	m := awaitExport(t, exp, kickoff(t, exp, "$export?_type=AllergyIntolerance"))
	ids := exportedIDs(exported(t, exp, m)["AllergyIntolerance"])
	if len(ids) == 0 {
		t.Fatal("exported no AllergyIntolerance")
	}
	served("$export", ids)
}
