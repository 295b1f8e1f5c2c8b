package bpsynth

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"fhirlink/agent/pgtest"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	cleanupShared()
	os.Exit(code)
}

func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The schema applies on PostgreSQL, the generator fills it, and the data is the same as on
// SQLite: every table hashes identically on both engines for the same seed.
func TestPostgresMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	opt := Options{Seed: 7, Patients: 300}
	pg := openPostgres(t)
	if err := Apply(ctx, pg, EnginePostgres); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := Generate(ctx, pg, EnginePostgres, opt); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL: %d patients generated in %v", opt.Patients, time.Since(start))
	lite := buildSQLite(t, "same.db", opt)

	for _, table := range TableNames() {
		hp, np := tableHash(t, pg, table)
		hl, nl := tableHash(t, lite, table)
		if np != nl || hp != hl {
			t.Errorf("%s: PostgreSQL has %d rows (hash %x), SQLite %d rows (hash %x)", table, np, hp, nl, hl)
		}
	}
	checkViews(t, pg)
	checkDerived(t, pg)
}

// Identity sequences are moved past the generated ids, so a row inserted later without an id
// gets a fresh one.
func TestPostgresSequencesAdvanced(t *testing.T) {
	ctx := context.Background()
	pg := openPostgres(t)
	if err := Apply(ctx, pg, EnginePostgres); err != nil {
		t.Fatal(err)
	}
	if err := Generate(ctx, pg, EnginePostgres, Options{Seed: 3, Patients: 50}); err != nil {
		t.Fatal(err)
	}
	var id, maxID int
	err := pg.QueryRow(`INSERT INTO "CANCELLATIONREASONS" ("RECORDSTATUS", "REASON") VALUES (1, 'Test') RETURNING "REASONCODE"`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	maxID = count(t, pg, `SELECT MAX("REASONCODE") FROM "CANCELLATIONREASONS" WHERE "REASON" <> 'Test'`)
	if id <= maxID {
		t.Errorf("new REASONCODE %d does not follow the generated ones (max %d)", id, maxID)
	}
	id = 0
	err = pg.QueryRow(`INSERT INTO "APPOINTMENTS" ("INTERNALID","RECORDSTATUS","USERID","LOCATIONID","VISITID","APPOINTMENTDATE",
		"APPOINTMENTTIME","APPOINTMENTLENGTH","APPOINTMENTCODE","APPOINTMENTTYPE","URGENT","ARRIVALTIME","CONSULTATIONTIME",
		"VISITLENGTH","ROOMID","OPERATIONID","BOOKEDBY","ACCOUNTTYPE","NNAC","PATIENTS","CREATED","CREATEDBY","FOLLOWUP")
		VALUES (1,1,1,1,0,'2026-07-01',32400,900,1,1,0,0,0,0,0,0,1,0,0,1,'2026-06-15 11:00',1,0) RETURNING "RECORDID"`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	if maxID = count(t, pg, `SELECT MAX("RECORDID") FROM "APPOINTMENTS"`); id != maxID {
		t.Errorf("new appointment got RECORDID %d, want the highest (%d)", id, maxID)
	}
}

// BenchmarkGeneratePostgres measures the demo and the 50,000-patient practice on PostgreSQL:
//
//	go test ./mappings/bppremier/bpsynth/ -run '^$' -bench GeneratePostgres -benchtime 1x
func BenchmarkGeneratePostgres(b *testing.B) {
	for _, size := range []struct {
		name string
		opt  Options
	}{{"Small", Small()}, {"Benchmark", Benchmark()}} {
		b.Run(size.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				pg := openPostgres(b)
				if err := Apply(ctx, pg, EnginePostgres); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := Generate(ctx, pg, EnginePostgres, size.opt); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				var mb float64
				if err := pg.QueryRow(`SELECT pg_database_size(current_database()) / 1048576.0`).Scan(&mb); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(mb, "MB")
				b.StartTimer()
			}
		})
	}
}
