package executor

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fhirlink/agent/tdstest"
	"fhirlink/agent/wire"
)

// These tests drive go-mssqldb's real wire path against the TDS responder.
// Reader and scalar text commands run in a transaction that is rolled back
// (see sqlserver_tx_test.go); stored procedures and nonQuery run without
// one.

func newTDS(t *testing.T, h tdstest.Handler) (*Executor, *tdstest.Server) {
	t.Helper()
	s := tdstest.Start(t, h)
	return openExecutor(t, Config{Engine: "sqlserver", AllowWrites: true,
		Catalogues: []Catalogue{{Name: "BPSPatients", DSN: s.DSN()}}}), s
}

// newRecordingTDS is newTDS answering res to every query but the version
// (tdsVersion); last returns the last such query.
func newRecordingTDS(t *testing.T, res *tdstest.Result) (e *Executor, s *tdstest.Server, last func() tdstest.Query) {
	t.Helper()
	var mu sync.Mutex
	var got tdstest.Query
	e, s = newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if v := tdsVersion(q); v != nil {
			return v, nil
		}
		mu.Lock()
		got = q
		mu.Unlock()
		return res, nil
	})
	return e, s, func() tdstest.Query {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// tdsVersion answers the version query and the ping of Open, nil for
// other queries.
func tdsVersion(q tdstest.Query) *tdstest.Result {
	if strings.Contains(q.SQL, "SERVERPROPERTY") || q.SQL == "select 1;" {
		return &tdstest.Result{Columns: []tdstest.Column{{Name: "v", Type: tdstest.NVarChar}}, Rows: [][]any{{"16.0.1000.6"}}}
	}
	return nil
}

// A storedProcedure command is an RPC call of the procedure with typed,
// named parameters, and its result comes back encoded per column type.
func TestSQLServerProcedureOverTDS(t *testing.T) {
	e, s, last := newRecordingTDS(t, &tdstest.Result{
		Columns: []tdstest.Column{
			{Name: "InternalID", Type: tdstest.Int}, {Name: "Surname", Type: tdstest.VarChar, Length: 40},
			{Name: "Balance", Type: tdstest.Money, Nullable: true}, {Name: "Dose", Type: tdstest.Decimal, Precision: 10, Scale: 3},
			{Name: "DOB", Type: tdstest.Date}, {Name: "Updated", Type: tdstest.DateTime2, Scale: 7},
			{Name: "Seen", Type: tdstest.DateTime}, {Name: "At", Type: tdstest.DateTimeOffset},
			{Name: "RowGuid", Type: tdstest.UniqueIdentifier}, {Name: "Active", Type: tdstest.Bit},
			{Name: "Photo", Type: tdstest.VarBinary, Nullable: true},
		},
		Rows: [][]any{{42, "O'Brien", "12.5", "0.125", time.Date(1950, 1, 2, 0, 0, 0, 0, time.UTC),
			time.Date(2024, 5, 31, 9, 30, 0, 1234567e2, time.UTC), time.Date(2024, 5, 31, 9, 30, 0, 0, time.UTC),
			time.Date(2024, 5, 31, 9, 30, 0, 0, time.FixedZone("", 10*3600)),
			tdstest.GUID{0x6F, 0x96, 0x19, 0xFF, 0x8B, 0x86, 0xD0, 0x11, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}, true, nil}},
	})
	rec, tr := mustRun(t, e, wire.QueryRequest{Text: "dbo.GetPatient", Type: wire.CommandStoredProcedure, Params: []wire.Param{
		{Name: "@id", Type: "Int", Value: str("42")}, {Name: "@surname", Type: "VarChar", Value: str("O'Brien")},
		{Name: "@from", Type: "DateTime2", Value: str("2024-01-01T00:00:00")}, {Name: "@guid", Type: "UniqueIdentifier", Value: str("6f9619ff-8b86-d011-b42d-00c04fc964ff")},
		{Name: "@none", Type: "BigInt"},
	}})
	want := `{"InternalID":42,"Surname":"O'Brien","Balance":"12.5000","Dose":"0.125","DOB":"1950-01-02",` +
		`"Updated":"2024-05-31T09:30:00.1234567","Seen":"2024-05-31T09:30:00","At":"2024-05-31T09:30:00+10:00",` +
		`"RowGuid":"6f9619ff-8b86-d011-b42d-00c04fc964ff","Active":true,"Photo":null}`
	if len(rec.rows) != 1 || rec.rows[0] != want || tr.Rows != 1 {
		t.Errorf("rows\n got %v\nwant %s", rec.rows, want)
	}
	got := last()
	if !got.IsProc || got.Proc != "dbo.GetPatient" {
		t.Fatalf("not called as a procedure: %+v", got)
	}
	if tx := s.Transactions(); got.Transaction != 0 || tx.Begun != 0 {
		t.Errorf("the procedure ran in transaction %x; transactions %+v", got.Transaction, tx)
	}
	types := map[string]string{"@id": "INTN", "@surname": "BIGVARCHR", "@from": "DATETIME2N", "@guid": "GUID", "@none": "INTN"}
	for _, p := range got.Params {
		if types[p.Name] != p.Type {
			t.Errorf("%s sent as %s, want %s", p.Name, p.Type, types[p.Name])
		}
	}
	if g, ok := got.Params[3].Value.(tdstest.GUID); !ok || g.String() != "6F9619FF-8B86-D011-B42D-00C04FC964FF" {
		t.Errorf("guid arrived as %v", got.Params[3].Value)
	}
	if got.Params[4].Value != nil {
		t.Errorf("NULL arrived as %v", got.Params[4].Value)
	}
	version, _, err := e.Info(context.Background())
	if err != nil || version != "16.0.1000.6" {
		t.Errorf("Info: %q %v", version, err)
	}
}

// nonQuery goes as sp_executesql with declared parameters, and returns the
// rows affected; the server's errors keep their number.
func TestSQLServerNonQueryOverTDS(t *testing.T) {
	var mu sync.Mutex
	var decl string
	var tx uint64
	e, s := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if strings.Contains(q.SQL, "Nope") {
			return nil, &tdstest.Error{Number: 208, Message: "Invalid object name 'Nope'."}
		}
		mu.Lock()
		decl, tx = q.ParamDecl, q.Transaction
		mu.Unlock()
		return &tdstest.Result{RowsAffected: 3}, nil
	})
	_, tr := mustRun(t, e, wire.QueryRequest{Text: "UPDATE Appointments SET Arrived = @at WHERE ID = @id", Mode: wire.ModeNonQuery,
		Params: []wire.Param{{Name: "at", Type: "DateTime", Value: str("2024-05-31T09:30:00")}, {Name: "id", Type: "SmallInt", Value: str("7")}}})
	if tr.RowsAffected == nil || *tr.RowsAffected != 3 {
		t.Errorf("trailer %+v", tr)
	}
	mu.Lock()
	if decl != "@at datetime,@id smallint" {
		t.Errorf("declared %q", decl)
	}
	if tx != 0 || s.Transactions().Begun != 0 {
		t.Errorf("nonQuery ran in transaction %x; transactions %+v", tx, s.Transactions())
	}
	mu.Unlock()
	_, _, we := run(t, e, wire.QueryRequest{Text: "DELETE FROM Nope", Mode: wire.ModeNonQuery})
	wantKind(t, we, wire.KindDatabase, "Invalid object name 'Nope'.")
	if we.Code != "208" || we.Engine != "sqlserver" {
		t.Errorf("%+v", we)
	}
}

// The deadline sends an attention, which cancels the statement in the server.
func TestSQLServerDeadlineOverTDS(t *testing.T) {
	cancelled := make(chan struct{}, 1)
	e, _ := newTDS(t, func(ctx context.Context, q tdstest.Query) (*tdstest.Result, error) {
		if q.SQL == "select 1;" {
			return nil, nil
		}
		<-ctx.Done()
		cancelled <- struct{}{}
		return nil, ctx.Err()
	})
	start := time.Now()
	_, _, we := run(t, e, wire.QueryRequest{Text: "dbo.Slow", Type: wire.CommandStoredProcedure, TimeoutMS: 300})
	wantKind(t, we, wire.KindTimeout, "0.3 s execution limit")
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the cancellation")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
}

// A nonQuery with an OUTPUT clause goes as the same sp_executesql, outside
// any transaction, and its rows stream with their number as rowsAffected;
// a journaled procedure's rows are held until its outcome is recorded,
// then kept with it.
func TestSQLServerOutputOverTDS(t *testing.T) {
	e, s, last := newRecordingTDS(t, &tdstest.Result{Columns: []tdstest.Column{{Name: "RECORDID", Type: tdstest.Int}}, Rows: [][]any{{4711}}})
	rec, tr := mustRun(t, e, wire.QueryRequest{Mode: wire.ModeNonQuery,
		Text:   "INSERT INTO APPOINTMENTS (APPOINTMENTDATE, INTERNALID) OUTPUT inserted.RECORDID VALUES (@d, @p)",
		Params: []wire.Param{{Name: "d", Type: "Date", Value: str("2025-03-04")}, {Name: "p", Type: "Int", Value: str("12")}}})
	if len(rec.rows) != 1 || rec.rows[0] != `{"RECORDID":4711}` || tr.RowsAffected == nil || *tr.RowsAffected != 1 {
		t.Fatalf("rows %v trailer %+v", rec.rows, tr)
	}
	if got := last(); got.IsProc || got.ParamDecl != "@d date,@p int" || got.Transaction != 0 || s.Transactions().Begun != 0 {
		t.Errorf("sent as %+v; transactions %+v", got, s.Transactions())
	}

	rec = &recorder{}
	j := &fakeJournal{sink: rec}
	_, err := e.RunOnce(context.Background(), wire.QueryRequest{Text: "dbo.BP_AddAppointment", Type: wire.CommandStoredProcedure,
		ExecutionID: "e", TimeoutMS: 30000, Params: []wire.Param{{Name: "@patientid", Type: "Int", Value: str("12")}}}, rec, j)
	if err != nil || len(rec.rows) != 1 {
		t.Fatalf("procedure: %v %v", rec.rows, err)
	}
	if j.state != wire.ExecutionCommitted || j.headerSet || j.result == nil || len(j.result.Rows) != 1 || string(j.result.Rows[0]) != `{"RECORDID":4711}` {
		t.Errorf("journal: %+v %+v", j, j.result)
	}
	if got := last(); !got.IsProc || got.Proc != "dbo.BP_AddAppointment" {
		t.Errorf("not called as a procedure: %+v", got)
	}
}
