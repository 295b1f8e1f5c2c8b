package executor

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"

	"fhirlink/agent/wire"
)

// classify turns an error of a driver into the wire.Error the integrator
// sees: the database's own message and code when the database reported it,
// KindUnavailable when the connection failed. Context errors are not judged
// here: the caller knows which context ended and why.
func classify(eng engine, err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	if we := eng.dbError(err); we != nil {
		return we
	}
	if bindingError(err) {
		return &wire.Error{Kind: wire.KindInvalid, Engine: eng.name(),
			Message: "the command text's placeholders do not match the request's parameters (" + oneLine(err.Error()) + "); " + errPositional}
	}
	var netErr net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.As(err, &netErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return &wire.Error{Kind: wire.KindUnavailable, Engine: eng.name(), Message: "the database cannot be reached: " + oneLine(err.Error())}
	}
	return &wire.Error{Kind: wire.KindInternal, Engine: eng.name(), Message: "the database driver failed: " + oneLine(err.Error())}
}

// bindingMessages are the errors that drivers (and database/sql) return,
// before anything runs, when the arguments do not fill the statement's
// placeholders: a prefix and, when not empty, a part further on. They are
// the caller's mistake, whatever slipped past bind.
var bindingMessages = []struct{ prefix, part string }{
	{"missing named argument ", ""},        // modernc.org/sqlite
	{"missing argument with index ", ""},   // modernc.org/sqlite
	{"expected ", " arguments, got "},      // pgx
	{"sql: expected ", " arguments, got "}, // database/sql
}

func bindingError(err error) bool {
	msg := err.Error()
	for _, m := range bindingMessages {
		if strings.HasPrefix(msg, m.prefix) && strings.Contains(msg, m.part) {
			return true
		}
	}
	return false
}

// dbErr is a database's own error: its code and message are passed on
// unchanged, since they are what an integrator searches for.
func dbErr(eng engine, kind wire.ErrorKind, code, msg string) *wire.Error {
	return &wire.Error{Kind: kind, Engine: eng.name(), Code: code, Message: msg}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// oneLine keeps a driver's message on one line, as errors are shown in logs
// and JSON alike.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
