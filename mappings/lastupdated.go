package mappings

import "fhirlink/fhir"

// LastUpdatedParam is the _lastUpdated search parameter of a resource whose
// meta.lastUpdated is made by [LastUpdated] from the row's update and
// creation times: updated and created are those columns' SQL expressions
// in the resource's query (practice wall-clock datetimes). It matches
// COALESCE(updated, created), as meta.lastUpdated shows it; a row with
// neither matches no value. Declaring it also lets a FHIR Bulk Data export
// with _since filter in SQL rather than read every row.
func LastUpdatedParam(updated, created string) Param {
	return Param{Name: "_lastUpdated", Type: fhir.TypeDate,
		Doc:   "When the record last changed (its update time, else its creation time), as meta.lastUpdated",
		Match: DateTime("COALESCE(" + updated + ", " + created + ")")}
}
