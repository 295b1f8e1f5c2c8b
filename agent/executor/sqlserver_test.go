package executor

import (
	"database/sql"
	"testing"
	"time"

	"github.com/golang-sql/civil"
	mssql "github.com/microsoft/go-mssqldb"

	"fhirlink/agent/wire"
)

// No SQL Server can run here: these tests cover what the engine decides
// itself. Its wire path is exercised by the agent's TDS responder tests.

// Each passthrough type becomes the Go type that makes go-mssqldb declare
// the matching SQL Server type.
func TestSQLServerParamValues(t *testing.T) {
	ps, we := parseParams(allTypesParams(false))
	if we != nil {
		t.Fatal(we)
	}
	_, args, err := sqlserverEngine{}.bind("SELECT 1", ps)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, a := range args {
		na := a.(sql.NamedArg)
		got[na.Name] = na.Value
	}
	at := time.Date(2024, 5, 31, 9, 30, 0, 0, time.UTC)
	want := map[string]any{
		"bi": int64(-9223372036854775808), "i": int32(2147483647), "si": int16(-32768), "ti": uint8(255),
		"bit": true, "f": 1.5e300, "r": float32(0.25), "dec": "-1234567890.1234", "money": "922337203685477.5807",
		"c": mssql.VarChar("abc"), "vc": mssql.VarChar("O'Brien"), "nvc": "Zoë ' OR 1=1 --", "txt": mssql.VarChar("x\ny"),
		"d":   civil.Date{Year: 2024, Month: 5, Day: 31},
		"dt":  mssql.DateTime1(at.Add(123 * time.Millisecond)),
		"dt2": civil.DateTime{Date: civil.Date{Year: 2024, Month: 5, Day: 31}, Time: civil.Time{Hour: 9, Minute: 30, Nanosecond: 123456000}},
		"sdt": mssql.DateTime1(at),
		"tm":  civil.Time{Hour: 9, Minute: 30, Nanosecond: 250000000},
		"u":   mssql.UniqueIdentifier{0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff},
		"x":   "<a>1</a>",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %#v, want %#v", name, got[name], w)
		}
	}
	if b, ok := got["bin"].([]byte); !ok || string(b) != "\x00\xff\x10" {
		t.Errorf("bin: %#v", got["bin"])
	}
	if dto, ok := got["dto"].(mssql.DateTimeOffset); !ok || time.Time(dto).Format(time.RFC3339) != "2024-05-31T09:30:00+10:00" {
		t.Errorf("dto: %#v", got["dto"])
	}
	// A UniqueIdentifier goes on the wire in SQL Server's mixed-endian order.
	if v, _ := want["u"].(mssql.UniqueIdentifier).Value(); string(v.([]byte)[:4]) != "\xff\x19\x96\x6f" {
		t.Errorf("uuid wire bytes %x", v)
	}

	nulls, _ := parseParams(allTypesParams(true))
	_, args, _ = sqlserverEngine{}.bind("SELECT 1", nulls)
	wantNull := map[string]any{"bi": sql.NullInt64{}, "i": sql.NullInt32{}, "ti": sql.NullByte{}, "bit": sql.NullBool{},
		"d": mssql.NullDate{}, "dt2": mssql.NullDateTime{}, "tm": mssql.NullTime{}, "u": sql.NullString{}, "nvc": sql.NullString{}}
	for _, a := range args {
		na := a.(sql.NamedArg)
		if b, ok := na.Value.([]byte); na.Name == "bin" && (!ok || b != nil) {
			t.Errorf("NULL bin: %#v, want a nil []byte", na.Value)
		}
		if w, ok := wantNull[na.Name]; ok && na.Value != w {
			t.Errorf("NULL %s: %#v, want %#v", na.Name, na.Value, w)
		}
	}
	// Non-ASCII text in a varchar parameter goes as nvarchar: varchar bytes
	// would be read in the server's code page.
	ps, _ = parseParams([]wire.Param{{Name: "s", Type: "VarChar", Value: str("Zoë")}})
	if _, args, _ := (sqlserverEngine{}).bind("", ps); args[0].(sql.NamedArg).Value != "Zoë" {
		t.Errorf("non-ASCII varchar: %#v", args[0])
	}
}

func TestSQLServerCodecs(t *testing.T) {
	e := sqlserverEngine{}
	for dbType, want := range map[string]wire.Type{
		"BIGINT": wire.TypeInteger, "TINYINT": wire.TypeInteger, "BIT": wire.TypeBoolean, "REAL": wire.TypeFloat,
		"DECIMAL": wire.TypeDecimal, "MONEY": wire.TypeDecimal, "NVARCHAR": wire.TypeString, "XML": wire.TypeString,
		"VARBINARY": wire.TypeBinary, "IMAGE": wire.TypeBinary, "UNIQUEIDENTIFIER": wire.TypeUUID, "DATE": wire.TypeDate,
		"DATETIME": wire.TypeDateTime, "SMALLDATETIME": wire.TypeDateTime, "DATETIME2": wire.TypeDateTime,
		"DATETIMEOFFSET": wire.TypeDateTimeOffset, "TIME": wire.TypeTime, "GEOGRAPHY": wire.TypeString,
	} {
		if got := e.codec(dbType).wireType(); got != want {
			t.Errorf("%s: %s, want %s", dbType, got, want)
		}
	}
	// Values as go-mssqldb returns them.
	for _, c := range []struct {
		dbType string
		v      any
		want   string
	}{
		{"MONEY", []byte("12.3400"), `"12.3400"`},
		{"DECIMAL", []byte("-99999999999999999999999999999999999999"), `"-99999999999999999999999999999999999999"`},
		{"REAL", float64(float32(1.1)), "1.1"},
		{"DATETIME2", time.Date(2024, 5, 31, 9, 30, 0, 1234567e2, time.UTC), `"2024-05-31T09:30:00.1234567"`},
		{"TIME", time.Date(1, 1, 1, 9, 30, 0, 0, time.UTC), `"09:30:00"`},
		{"DATETIMEOFFSET", time.Date(2024, 5, 31, 9, 30, 0, 0, time.FixedZone("", -150*60)), `"2024-05-31T09:30:00-02:30"`},
		{"SQL_VARIANT", int64(5), "5"},
	} {
		if got := string(appendValue(nil, e.codec(c.dbType), c.v)); got != c.want {
			t.Errorf("%s %#v: %s, want %s", c.dbType, c.v, got, c.want)
		}
	}
}

func TestSQLServerErrors(t *testing.T) {
	e := sqlserverEngine{}
	err := mssql.Error{Number: 8180, Message: "Statement(s) could not be prepared.", All: []mssql.Error{
		{Number: 207, Message: "Invalid column name 'Surnam'."},
		{Number: 8180, Message: "Statement(s) could not be prepared."},
	}}
	we := classify(e, err)
	if we.Kind != wire.KindDatabase || we.Engine != "sqlserver" || we.Code != "207" ||
		we.Message != "Invalid column name 'Surnam'. Statement(s) could not be prepared." {
		t.Errorf("%+v", we)
	}
	if we := classify(e, mssql.Error{Number: 18456, Message: "Login failed for user 'bpsrawdata'."}); we.Kind != wire.KindUnavailable {
		t.Errorf("login failure: %+v", we)
	}
}

// Only a bare procedure name is called as a procedure; anything the driver
// would run as a batch is refused.
func TestSQLServerProcedureNames(t *testing.T) {
	for _, name := range []string{"GetPatient", "dbo.GetPatient", "[dbo].[Get Patient]", "BPS.dbo.[x]]y]", "#tmp", "a.b.c.d", "p_1$"} {
		if we := (sqlserverEngine{}).procedure(name); we != nil {
			t.Errorf("%q refused: %v", name, we)
		}
	}
	for _, name := range []string{"", "EXEC GetPatient", "GetPatient 1", "GetPatient;DROP TABLE x", "dbo.", ".p", "[]",
		"[unterminated", "a.b.c.d.e", "GetPatient(1)", "commit", " GetPatient", "x--", "[a'b]"} {
		if we := (sqlserverEngine{}).procedure(name); we == nil || we.Kind != wire.KindInvalid {
			t.Errorf("%q accepted", name)
		}
	}
}
