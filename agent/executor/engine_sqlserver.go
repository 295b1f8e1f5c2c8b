package executor

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/golang-sql/civil"
	mssql "github.com/microsoft/go-mssqldb"

	"fhirlink/agent/wire"
)

// sqlserverEngine runs queries through go-mssqldb, Bp Premier's database.
// The driver sends a parameterised command as sp_executesql, and a command
// whose whole text is a procedure name as an RPC call of that procedure; on
// a cancelled context it sends an attention packet, which stops the
// statement in the server.
type sqlserverEngine struct{}

func (sqlserverEngine) name() string { return wire.EngineSQLServer }

func (sqlserverEngine) open(dsn string, writes bool) (*sql.DB, *sql.DB, error) {
	db, err := sql.Open("sqlserver", dsn)
	if err != nil || !writes {
		return db, nil, err
	}
	return db, db, nil
}

// readTx is a plain transaction, rolled back after the read: go-mssqldb has
// no read-only transactions (SQL Server has none). The real protection on Bp
// Premier is the agent's read-only database login (bpsrawdata), which can
// only SELECT; the rollback undoes what a reader could still change.
func (sqlserverEngine) readTx() *sql.TxOptions { return &sql.TxOptions{} }

// reset has nothing to do: database/sql tells go-mssqldb when a pooled
// connection is reused (driver.SessionResetter), and go-mssqldb then sets
// the TDS RESETCONNECTION flag on the next request, which makes SQL Server
// run sp_reset_connection before it: temp tables and cursors are dropped,
// an open transaction is rolled back, SET options, CONTEXT_INFO and
// SESSION_CONTEXT are restored, and the database is the login's again.
// (Before SQL Server 2014 the transaction isolation level survives such a
// reset: a session left at READ UNCOMMITTED keeps it for the next request.)
func (sqlserverEngine) reset(context.Context, *sql.Conn) error { return nil }

func (sqlserverEngine) versionSQL() string {
	return "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128))"
}

// bind passes the parameters by name: SQL Server resolves @name itself, and
// the driver declares each parameter from the Go type of its value.
func (sqlserverEngine) bind(text string, params []param) (string, []any, error) {
	args := make([]any, len(params))
	for i, p := range params {
		args[i] = sql.Named(p.name, msValue(p))
	}
	return text, args, nil
}

// msValue picks the Go type that makes go-mssqldb declare the parameter as
// the type the integrator named, so that SQL Server compares like with like
// and can use its indexes.
func msValue(p param) any {
	if p.value == nil {
		return msNull(p.typ)
	}
	switch v := p.value.(type) {
	case int64:
		switch p.typ.bits {
		case 32:
			return int32(v)
		case 16:
			return int16(v)
		case 8:
			return uint8(v)
		}
	case float64:
		if p.typ.bits == 32 {
			return float32(v)
		}
	case string:
		// varchar travels as bytes in the connection's code page: only plain
		// ASCII is the same in every code page, anything else goes as nvarchar.
		if p.typ.ansi && isASCII(v) {
			return mssql.VarChar(v)
		}
	case time.Time:
		switch {
		case p.typ.kind == kindDate:
			return civil.DateOf(v)
		case p.typ.kind == kindTime:
			return civil.TimeOf(v)
		case p.typ.kind == kindDateTimeOffset:
			return mssql.DateTimeOffset(v)
		case p.typ.name == "DateTime2":
			return civil.DateTimeOf(v)
		default: // DateTime, SmallDateTime
			return mssql.DateTime1(v)
		}
	case [16]byte:
		return mssql.UniqueIdentifier(v)
	}
	// bool, []byte, and decimals as their exact text, which SQL Server
	// converts to the decimal or money it is compared with.
	return p.value
}

// msNull is a NULL of the parameter's type: an untyped NULL would be declared
// nvarchar and could make SQL Server convert the column instead, or refuse
// the statement where nvarchar does not convert implicitly (binary types).
func msNull(t *paramType) any {
	switch t.kind {
	case kindInt:
		switch t.bits {
		case 64:
			return sql.NullInt64{}
		case 32:
			return sql.NullInt32{}
		case 16:
			return sql.NullInt16{}
		}
		return sql.NullByte{}
	case kindBool:
		return sql.NullBool{}
	case kindFloat:
		return sql.NullFloat64{}
	case kindDate:
		return mssql.NullDate{}
	case kindTime:
		return mssql.NullTime{}
	case kindDateTime:
		if t.name == "DateTime2" {
			return mssql.NullDateTime{}
		}
		return sql.NullTime{}
	case kindDateTimeOffset:
		return sql.NullTime{}
	case kindBinary:
		return []byte(nil) // varbinary(max) NULL
	}
	// Strings, decimals and UUIDs: nvarchar NULL, which SQL Server converts
	// to the column's type. (mssql.NullUniqueIdentifier is no use: go-mssqldb
	// writes its NULL as a zero length followed by 16 bytes anyway, which
	// corrupts the RPC request.)
	return sql.NullString{}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// msCodecs maps go-mssqldb's type names.
var msCodecs = map[string]codec{
	"BIGINT": codecInteger, "INT": codecInteger, "SMALLINT": codecInteger, "TINYINT": codecInteger,
	"BIT":   codecBoolean,
	"FLOAT": codecFloat, "REAL": codecFloat32,
	"DECIMAL": codecDecimal, "NUMERIC": codecDecimal, "MONEY": codecDecimal, "SMALLMONEY": codecDecimal,
	"CHAR": codecString, "VARCHAR": codecString, "NCHAR": codecString, "NVARCHAR": codecString,
	"TEXT": codecString, "NTEXT": codecString, "XML": codecString,
	"BINARY": codecBinary, "VARBINARY": codecBinary, "IMAGE": codecBinary,
	"UNIQUEIDENTIFIER": codecUUIDMixed,
	"DATE":             codecDate,
	"DATETIME":         codecDateTime, "DATETIME2": codecDateTime, "SMALLDATETIME": codecDateTime,
	"TIME":           codecTime,
	"DATETIMEOFFSET": codecDateTimeOffset,
	"SQL_VARIANT":    codecDynamic,
}

func (sqlserverEngine) codec(dbType string) codec {
	if c, ok := msCodecs[dbType]; ok {
		return c
	}
	return codecString
}

// Errors that mean the agent cannot use the database at all, rather than
// that this statement failed.
var msUnavailable = map[int32]bool{
	18456: true, // login failed
	18452: true, // login from an untrusted domain
	18486: true, // account locked out
	18487: true, // password expired
	18488: true, // password must be changed
	4060:  true, // cannot open the database requested by the login
	4064:  true, // cannot open the user's default database
}

// dbError keeps SQL Server's number and messages. A batch often reports
// several errors; the first is the cause, the rest follow from it.
func (e sqlserverEngine) dbError(err error) *wire.Error {
	var me mssql.Error
	if errors.As(err, &me) {
		all := me.All
		if len(all) == 0 {
			all = []mssql.Error{me}
		}
		msgs := make([]string, len(all))
		for i, x := range all {
			msgs[i] = x.Message
		}
		kind := wire.KindDatabase
		if msUnavailable[all[0].Number] {
			kind = wire.KindUnavailable
		}
		return dbErr(e, kind, itoa(int64(all[0].Number)), strings.Join(msgs, " "))
	}
	var se mssql.StreamError
	if errors.As(err, &se) {
		return dbErr(e, wire.KindUnavailable, "", "the connection to SQL Server broke: "+oneLine(se.Error()))
	}
	return nil
}

// procedure accepts a bare, possibly qualified procedure name, which
// go-mssqldb then calls as an RPC with the parameters. Anything else (EXEC,
// arguments in the text, a second statement) is refused rather than silently
// run as a batch.
func (sqlserverEngine) procedure(text string) *wire.Error {
	if !isProcName(strings.TrimSpace(text)) || strings.TrimSpace(text) != text {
		return wire.Errorf(wire.KindInvalid, "a storedProcedure command's text must be just the procedure's name, like dbo.GetPatient or [dbo].[Get Patient]; pass its arguments as params")
	}
	return nil
}

// call is an RPC call of the procedure: go-mssqldb sends a command whose
// whole text is a procedure name as one, with the named parameters.
func (e sqlserverEngine) call(_ context.Context, _ *sql.Conn, name string, params []param) (string, []any, error) {
	return e.bind(name, params)
}

// returnsRows: an OUTPUT clause returns the rows a statement changed.
func (sqlserverEngine) returnsRows(text string) bool { return hasOutputClause(text) }

// isProcName reports whether s is one to four dot-separated parts, each a
// regular identifier or a [bracketed] one, and not a T-SQL command word that
// the driver would run as a batch.
func isProcName(s string) bool {
	switch strings.ToUpper(s) {
	case "", "RECONFIGURE", "SHUTDOWN", "CHECKPOINT", "COMMIT", "ROLLBACK", "REVERT":
		return false
	}
	parts := 0
	for len(s) > 0 {
		parts++
		var n int
		if s[0] == '[' {
			n = bracketedLen(s)
		} else {
			n = identLen(s)
		}
		if n == 0 || parts > 4 {
			return false
		}
		s = s[n:]
		if s == "" {
			return true
		}
		if s[0] != '.' || len(s) == 1 {
			return false
		}
		s = s[1:]
	}
	return false
}

// identLen is the length of the regular identifier at the start of s.
func identLen(s string) int {
	for i, r := range s {
		ok := unicode.IsLetter(r) || r == '_' || r == '#' || (i > 0 && (unicode.IsDigit(r) || r == '@' || r == '$'))
		if !ok {
			return i
		}
	}
	return len(s)
}

// bracketedLen is the length of the [delimited] identifier at the start of
// s, where "]]" stands for "]"; 0 if it is not one.
func bracketedLen(s string) int {
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] < 0x20 || s[i] == '\'' || s[i] == ';':
			return 0
		case s[i] == ']' && i+1 < len(s) && s[i+1] == ']':
			i++
		case s[i] == ']':
			if i == 1 {
				return 0
			}
			return i + 1
		}
	}
	return 0
}
