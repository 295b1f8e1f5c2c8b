package bpsynth

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SMOKE_N"))
	if n == 0 {
		n = 200
	}
	path := os.Getenv("SMOKE_DB")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := Apply(ctx, db, EngineSQLite); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := Generate(ctx, db, EngineSQLite, Options{Seed: 1, Patients: n}); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated in %v", time.Since(start))
	total := 0
	for _, tb := range TableNames() {
		c := count(t, db, `SELECT COUNT(*) FROM "`+tb+`"`)
		total += c
		t.Logf("%-24s %d", tb, c)
	}
	t.Logf("total rows %d", total)
}
