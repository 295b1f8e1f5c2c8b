package main

import (
	"context"
	"database/sql"
	"testing"

	"fhirlink/mappings/bppremier/bpsynth"
)

// TestDemoPracticeRunsInItsZone: the demo's agent runs each synthetic
// practice in the time zone of the state its branches are in.
func TestDemoPracticeRunsInItsZone(t *testing.T) {
	states := map[string]string{ // the practice's addresses, in its own schema
		"BestPractice": `SELECT POSTCODE FROM LOCATIONS WHERE RECORDSTATUS = 1`,
		"Zedmed":       `SELECT STATE FROM BRANCH WHERE DELETED = 0`,
	}
	for pms, p := range demoPractices {
		cats, err := p.create(context.Background(), t.TempDir(), 20, bpsynth.DefaultToday)
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", cats[0].DSN)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(states[pms])
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var v string
			rows.Scan(&v)
			state := v
			if pms == "BestPractice" { // Bp keeps no state: the postcode gives it
				state = bpsynth.StateOfPostcode(v)
			}
			if z := bpsynth.TimeZone(state); z != p.timeZone || z == "" {
				t.Errorf("%s: a branch in %q (zone %q), the demo's agent runs in %q", pms, state, z, p.timeZone)
			}
			n++
		}
		rows.Close()
		db.Close()
		if n == 0 {
			t.Errorf("%s: no branch", pms)
		}
	}
}
