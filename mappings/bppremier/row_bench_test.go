package bppremier

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"fhirlink/agent/executor"
	"fhirlink/agent/wire"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier/bpsynth"
)

type rowCollector [][]byte

func (c *rowCollector) Header(wire.Header) error { return nil }
func (c *rowCollector) Row(r []byte) error       { *c = append(*c, append([]byte(nil), r...)); return nil }

// BenchmarkPatientRow measures row → Patient on rows read from the small
// synthetic practice: the mapping's share of a search's cost.
func BenchmarkPatientRow(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bp.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := bpsynth.Apply(ctx, db, bpsynth.EngineSQLite); err != nil {
		b.Fatal(err)
	}
	if err := bpsynth.Generate(ctx, db, bpsynth.EngineSQLite, bpsynth.Small()); err != nil {
		b.Fatal(err)
	}
	ex, err := executor.Open(ctx, executor.Config{Engine: "sqlite", Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: path}}})
	if err != nil {
		b.Fatal(err)
	}
	defer ex.Close()
	q, err := Patient.Search(dialect(b, "sqlite"), parse(b, Patient, "_count=100"))
	if err != nil {
		b.Fatal(err)
	}
	var rows rowCollector
	if _, err := ex.Run(ctx, wire.QueryRequest{Text: q.SQL, Params: q.Params, Mode: wire.ModeReader, Type: wire.CommandText, TimeoutMS: 10000}, &rows); err != nil {
		b.Fatal(err)
	}
	loc, _ := time.LoadLocation("Australia/Sydney")
	site := mappings.Site{Location: loc}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := Patient.Row(rows[i%len(rows)], site); err != nil {
			b.Fatal(err)
		}
	}
}
