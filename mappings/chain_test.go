package mappings

import (
	"strings"
	"testing"

	"fhirlink/fhir"
)

// chainTables are a target (people) and a table referring to it (notes),
// declared like a PMS mapping's.
func chainTables(t *testing.T) (*Table, *Table) {
	t.Helper()
	row := func([]byte, Site) (Row, error) { return Row{}, nil }
	people := NewTable(TableSpec{
		Type: "Patient",
		SQL:  `{{.Select}} p."ID" AS "id"{{.Keys}} FROM "PEOPLE" p WHERE 1 = 1{{.Where}}{{if not .Count}} ORDER BY {{.OrderBy}}{{end}}{{.Limit}}`,
		IDs:  `SELECT p."ID" FROM "PEOPLE" p WHERE p."LIVE" = 1{{.Where}}`,
		Params: []Param{
			{Name: "_id", Type: fhir.TypeToken, Match: ID(`p."ID"`)},
			{Name: "identifier", Type: fhir.TypeToken, Match: Identifiers(IdentifierColumn(SystemIHI, `p."IHI"`, nil))},
			{Name: "family", Type: fhir.TypeString, Match: String(Col(`p."SURNAME"`))},
		},
		Sorts:        map[string]Sort{"_id": SortInt(`p."ID"`)},
		RevIncludes:  []fhir.Include{{Source: "Condition", Param: "patient", Target: "Patient"}},
		Defaults:     []Default{{Where: `p."ACTIVE" = 1`, Unless: []string{"_id"}}},
		DefaultCount: 10, MaxCount: 50,
		Row: row,
	})
	notes := NewTable(TableSpec{
		Type: "Condition",
		SQL:  `{{.Select}} n."ID" AS "id"{{.Keys}} FROM "NOTES" n WHERE 1 = 1{{.Where}}{{if not .Count}} ORDER BY {{.OrderBy}}{{end}}{{.Limit}}`,
		Params: []Param{
			{Name: "_id", Type: fhir.TypeToken, Match: ID(`n."ID"`)},
			{Name: "code", Type: fhir.TypeToken, Match: Codes("urn:x", map[string]string{"a": `n."CODE" = 1`})},
			{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Match: Reference(`n."PID"`, "Patient"),
				Chain: &Chain{Column: `n."PID"`, Target: people, Params: []string{"identifier"}}},
		},
		Sorts:        map[string]Sort{"_id": SortInt(`n."ID"`)},
		DefaultCount: 10, MaxCount: 50,
		Row: row,
	})
	return people, notes
}

func TestChainedSQL(t *testing.T) {
	people, notes := chainTables(t)
	sp, _ := notes.Decl().Param("patient")
	if len(sp.Chains) != 1 || sp.Chains[0].Name != "identifier" || sp.Chains[0].Type != fhir.TypeToken {
		t.Fatalf("chains = %+v", sp.Chains)
	}
	if revs := people.Decl().RevIncludes; len(revs) != 1 || revs[0].String() != "Condition:patient" {
		t.Fatalf("revincludes = %+v", revs)
	}
	s, err := fhir.ParseSearch(notes.Decl(), map[string][]string{
		"code":               {"a"},
		"patient.identifier": {SystemIHI + "|8003608166690503,8003608000000000"},
	}, fhir.ParseOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	q, err := notes.Search(mustDialect(t, EnginePostgres), s)
	if err != nil {
		t.Fatal(err)
	}
	// The target's predicate inside the subquery, its values bound in the
	// order of the text, without the target's default filter.
	want := `n."PID" IN (SELECT p."ID" FROM "PEOPLE" p WHERE p."LIVE" = 1
      AND (lower(rtrim(p."IHI")) = lower(@p1)
       OR lower(rtrim(p."IHI")) = lower(@p2)))`
	if !strings.Contains(q.SQL, want) || strings.Contains(q.SQL, `"ACTIVE"`) {
		t.Errorf("SQL:\n%s\nwant it to contain\n%s", q.SQL, want)
	}
	var values []string
	for _, p := range q.Params {
		values = append(values, p.Name+"="+*p.Value)
	}
	if got := strings.Join(values, " "); got != "p1=8003608166690503 p2=8003608000000000 p3=11" {
		t.Errorf("params %s", got)
	}
	// A chain the parameter does not declare, given by hand, is a 400.
	fam, _ := people.Decl().Param("family")
	bad := &fhir.Search{Type: "Condition", Count: 1, Clauses: []fhir.Clause{{Param: sp, Chain: &fam, Values: []fhir.Value{{String: "x"}}}}}
	if _, err := notes.Search(mustDialect(t, EnginePostgres), bad); err == nil || !strings.Contains(err.Error(), "cannot be chained by family") {
		t.Errorf("undeclared chain: %v", err)
	}
}

func TestChainDeclarationMistakes(t *testing.T) {
	people, _ := chainTables(t)
	row := func([]byte, Site) (Row, error) { return Row{}, nil }
	noIDs := NewTable(TableSpec{Type: "Practitioner", SQL: "x", Row: row, DefaultCount: 1, MaxCount: 1,
		Params: []Param{{Name: "_id", Type: fhir.TypeToken, Match: ID("x")}, {Name: "identifier", Type: fhir.TypeToken, Match: ID("x")}},
		Sorts:  map[string]Sort{"_id": SortInt("x")}})
	for name, p := range map[string]Param{
		"not a reference":   {Name: "patient", Type: fhir.TypeToken, Match: ID("x"), Chain: &Chain{Column: "x", Target: people, Params: []string{"identifier"}}},
		"several targets":   {Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient", "Group"}, Match: ID("x"), Chain: &Chain{Column: "x", Target: people, Params: []string{"identifier"}}},
		"other target":      {Name: "patient", Type: fhir.TypeReference, Targets: []string{"Group"}, Match: ID("x"), Chain: &Chain{Column: "x", Target: people, Params: []string{"identifier"}}},
		"unknown parameter": {Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Match: ID("x"), Chain: &Chain{Column: "x", Target: people, Params: []string{"nope"}}},
		"no column":         {Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Match: ID("x"), Chain: &Chain{Target: people, Params: []string{"identifier"}}},
		"no IDs SQL":        {Name: "practitioner", Type: fhir.TypeReference, Targets: []string{"Practitioner"}, Match: ID("x"), Chain: &Chain{Column: "x", Target: noIDs, Params: []string{"identifier"}}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewTable accepted the chain")
				}
			}()
			NewTable(TableSpec{Type: "Condition", SQL: "x", Row: row, DefaultCount: 1, MaxCount: 1,
				Params: []Param{{Name: "_id", Type: fhir.TypeToken, Match: ID("x")}, p},
				Sorts:  map[string]Sort{"_id": SortInt("x")}})
		})
	}
	t.Run("revinclude of another type", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("NewTable accepted the revinclude")
			}
		}()
		NewTable(TableSpec{Type: "Patient", SQL: "x", Row: row, DefaultCount: 1, MaxCount: 1,
			Params:      []Param{{Name: "_id", Type: fhir.TypeToken, Match: ID("x")}},
			Sorts:       map[string]Sort{"_id": SortInt("x")},
			RevIncludes: []fhir.Include{{Source: "Condition", Param: "patient", Target: "Group"}}})
	})
}
