package bppremier

import (
	"cmp"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/executor"
	"fhirlink/agent/tdstest"
	"fhirlink/mappings"
	"fhirlink/mappings/bppremier/bpsynth/synthtest"
	"fhirlink/mappings/mappingstest"
)

// writeShapes are the FHIR writes whose T-SQL is kept in golden files and
// sent to the TDS responder.
var writeShapes = []struct {
	name  string
	write mappings.Write
}{
	{"book", writes.Book(mappings.EngineSQLServer, mappings.Booking{Patient: 12, Practitioner: 3, Location: 1,
		Day: time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC), Secs: 9 * 3600, Length: 900, Reason: "Booked online; it's 'urgent'"})},
	{"move", writes.Move(mappings.EngineSQLServer, mappings.Move{ID: 563, Practitioner: 3, Location: 1,
		Day: time.Date(2026, 6, 17, 0, 0, 0, 0, time.UTC), Secs: 10*3600 + 900})},
	{"cancel", writes.Cancel(mappings.EngineSQLServer, mappings.Cancel{ID: 563, Reason: "Patient unwell"})},
}

// TestWriteGolden compares the T-SQL of each write with its golden file
// (the procedure's name, for a procedure call); -update rewrites them.
func TestWriteGolden(t *testing.T) {
	for _, sh := range writeShapes {
		t.Run(sh.name, func(t *testing.T) {
			var b strings.Builder
			kind := "text nonQuery"
			if sh.write.Procedure {
				kind = "storedProcedure"
			}
			b.WriteString("-- " + kind + ", answer column " + cmp.Or(sh.write.IDColumn, "(none)") + "\n")
			b.WriteString(mappingstest.SQLText(sh.write.Query))
			mappingstest.CheckGoldenText(t, filepath.Join("testdata", "golden", "writes", sh.name+".sql"), b.String(), *update)
		})
	}
}

// TestWritesOverTDS sends each write through the agent's sqlserver engine
// to the TDS responder: a booking and a move are one batch (sp_executesql)
// with every value a typed parameter, a cancellation an RPC call of
// BP_CancelAppointment, and the answer row's RECORDID comes back.
func TestWritesOverTDS(t *testing.T) {
	var mu sync.Mutex
	var got []tdstest.Query
	srv := tdstest.Start(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if strings.Contains(q.SQL, "SERVERPROPERTY") || q.SQL == "select 1;" {
			return &tdstest.Result{Columns: []tdstest.Column{{Name: "v", Type: tdstest.NVarChar}}, Rows: [][]any{{"16.0.1000.6"}}}, nil
		}
		mu.Lock()
		got = append(got, q)
		mu.Unlock()
		return &tdstest.Result{Columns: []tdstest.Column{{Name: "RECORDID", Type: tdstest.Int}}, Rows: [][]any{{563}}}, nil
	})
	e, err := executor.Open(context.Background(), executor.Config{Engine: "sqlserver", AllowWrites: true,
		Catalogues: []executor.Catalogue{{Name: "BPSPatients", DSN: srv.DSN()}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i, sh := range writeShapes {
		var rows synthtest.Rows
		req := sh.write.Request()
		req.TimeoutMS, req.ExecutionID = 10000, "exec-"+sh.name
		if _, err := e.Run(context.Background(), req, &rows); err != nil {
			t.Fatalf("%s: %v", sh.name, err)
		}
		if len(rows) != 1 || string(rows[0]) != `{"RECORDID":563}` {
			t.Errorf("%s: answer %q", sh.name, rows)
		}
		mu.Lock()
		q := got[i]
		mu.Unlock()
		if sh.write.Procedure {
			if !q.IsProc || q.Proc != sh.write.SQL {
				t.Errorf("%s: sent %+v, want an RPC call of %s", sh.name, q, sh.write.SQL)
			}
		} else if q.IsProc || q.SQL != sh.write.SQL {
			t.Errorf("%s: sent %q, want the batch as written", sh.name, q.SQL)
		}
		if len(q.Params) != len(sh.write.Params) {
			t.Fatalf("%s: %d parameters sent, %d written", sh.name, len(q.Params), len(sh.write.Params))
		}
		for j, p := range sh.write.Params {
			sent := q.Params[j]
			if sent.Name != "@"+p.Name {
				t.Errorf("%s: parameter %d sent as %s, want %s", sh.name, j, sent.Name, p.Name)
			}
			if (p.Value == nil) != (sent.Value == nil) {
				t.Errorf("%s: %s sent as %v, want %v", sh.name, p.Name, sent.Value, p.Value)
			}
		}
		if !sh.write.Procedure && !strings.Contains(q.ParamDecl, "@aptdate date") {
			t.Errorf("%s: the date is not a date parameter: %s", sh.name, q.ParamDecl)
		}
	}
}
