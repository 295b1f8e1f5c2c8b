package executor

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"fhirlink/agent/wire"
)

type discardSink struct{ bytes int }

func (*discardSink) Header(wire.Header) error { return nil }
func (d *discardSink) Row(row []byte) error   { d.bytes += len(row); return nil }

const benchQuery = "SELECT id, surname, given, dob, created_at, balance, score, active, uid FROM patients"

// BenchmarkRun10kRows compares Run (read-only transaction, JSON encoding,
// byte accounting) with reading the same 10,000 rows of 9 mixed columns
// through database/sql into *any, the least a Go program can do.
func BenchmarkRun10kRows(b *testing.B) {
	e, c := newPostgres(b, false)
	pgExec(b, c, `CREATE TABLE patients AS SELECT g AS id, 'Surname' || g AS surname, 'Given name' AS given,
		DATE '1950-01-01' + g AS dob, TIMESTAMP '2024-01-01 09:00' + g * INTERVAL '1 minute' AS created_at,
		(g * 1.25)::numeric(12,2) AS balance, g / 7.0::float8 AS score, g % 2 = 0 AS active, gen_random_uuid() AS uid
		FROM generate_series(1, 10000) g`)
	ctx := context.Background()

	b.Run("executor", func(b *testing.B) {
		sink := &discardSink{}
		b.ReportAllocs()
		for b.Loop() {
			tr, err := e.Run(ctx, wire.QueryRequest{Text: benchQuery, TimeoutMS: 60000}, sink)
			if err != nil || tr.Rows != 10000 {
				b.Fatal(err, tr.Rows)
			}
		}
		b.ReportMetric(float64(sink.bytes)/float64(b.N), "json-bytes/op")
	})

	b.Run("direct", func(b *testing.B) {
		db := stdlib.OpenDB(*c.Config())
		defer db.Close()
		b.ReportAllocs()
		for b.Loop() {
			rows, err := db.QueryContext(ctx, benchQuery)
			if err != nil {
				b.Fatal(err)
			}
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			dest := make([]any, len(cols))
			for i := range vals {
				dest[i] = &vals[i]
			}
			n := 0
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if err := rows.Err(); err != nil || n != 10000 {
				b.Fatal(err, n)
			}
			rows.Close()
		}
	})
}

// BenchmarkRunOneRow is the agent's fixed cost of one small read (a FHIR
// read, a passthrough 1-row query): connection, statement, the session
// reset, against the same statement read directly.
func BenchmarkRunOneRow(b *testing.B) {
	e, c := newPostgres(b, false)
	ctx := context.Background()
	b.Run("executor", func(b *testing.B) {
		sink := &discardSink{}
		b.ReportAllocs()
		for b.Loop() {
			if tr, err := e.Run(ctx, wire.QueryRequest{Text: "SELECT 1 AS one", TimeoutMS: 60000}, sink); err != nil || tr.Rows != 1 {
				b.Fatal(err, tr.Rows)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		db := stdlib.OpenDB(*c.Config())
		defer db.Close()
		b.ReportAllocs()
		for b.Loop() {
			var one int
			if err := db.QueryRowContext(ctx, "SELECT 1 AS one").Scan(&one); err != nil {
				b.Fatal(err)
			}
		}
	})
}
