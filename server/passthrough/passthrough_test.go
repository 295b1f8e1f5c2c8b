package passthrough

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

func input(t *testing.T, js string) *Input {
	t.Helper()
	var in Input
	if err := json.Unmarshal([]byte(js), &in); err != nil {
		t.Fatal(err)
	}
	return &in
}

// The kinds of query differ in their maxTimeInQueue range and default, and
// scalar is immediate only.
func TestImmediateAndAsync(t *testing.T) {
	q, err := input(t, `{"command":{"text":"SELECT 1"}}`).Immediate()
	if err != nil || q.Mode != wire.ModeReader || q.Type != wire.CommandText || q.MaxTimeInQueueMS != 30000 {
		t.Fatalf("immediate defaults: %+v %v", q, err)
	}
	if q, err = input(t, `{"command":{"text":"SELECT 1"}}`).Async(); err != nil || q.MaxTimeInQueueMS != 3600000 {
		t.Fatalf("async defaults: %+v %v", q, err)
	}
	for _, tc := range []struct {
		js    string
		async bool
		want  string
	}{
		{`{"command":{"text":" "}}`, false, "command.text is required"},
		{`{"command":{"text":"x"},"maxTimeInQueue":60001}`, false, "between 0 and 60000 ms for immediate"},
		{`{"command":{"text":"x"},"maxTimeInQueue":-1}`, true, "between 0 and 7200000 ms for async"},
		{`{"command":{"text":"x","executionMode":"scalar"}}`, true, "scalar is for immediate queries"},
		{`{"command":{"text":"x","executionMode":"bulk"}}`, false, "unknown command.executionMode"},
		{`{"command":{"text":"x","parameters":[{"name":"@","type":"Int"}]}}`, false, "parameters[0].name is required"},
		{`{"command":{"text":"x","parameters":[{"name":"@a","type":"Integer"}]}}`, false, "unknown type"},
		{`{"command":{"text":"x","parameters":[{"name":"@a","type":"Int","value":42}]}}`, false, "must be a string or null"},
	} {
		in := input(t, tc.js)
		var err error
		if tc.async {
			_, err = in.Async()
		} else {
			_, err = in.Immediate()
		}
		if server.ErrorCode(err) != server.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.js, err, tc.want)
		}
	}
}

// A Variant's JSON number or boolean gives the parameter that value's type.
func TestVariantValues(t *testing.T) {
	q, err := input(t, `{"command":{"text":"x","parameters":[
		{"name":"@a","type":"variant","value":42},{"name":"@b","type":"Variant","value":3000000000},
		{"name":"@c","type":"Variant","value":1.50},{"name":"@d","type":"Variant","value":1e3},
		{"name":"@e","type":"Variant","value":true},{"name":"@f","type":"Variant","value":"s"},
		{"name":"@g","type":"Variant","value":null}]}}`).Immediate()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Int 42", "BigInt 3000000000", "Decimal 1.50", "Float 1e3", "Bit true", "Variant s", "Variant <nil>"}
	for i, p := range q.Params {
		got := p.Type + " <nil>"
		if p.Value != nil {
			got = p.Type + " " + *p.Value
		}
		if got != want[i] {
			t.Errorf("%s: %s, want %s", p.Name, got, want[i])
		}
	}
}

type rows struct {
	r   []string
	i   int
	err error
}

func (r *rows) Next() bool  { r.i++; return r.i <= len(r.r) }
func (r *rows) Row() []byte { return []byte(r.r[r.i-1]) }
func (r *rows) Err() error  { return r.err }

func TestCollect(t *testing.T) {
	var buf bytes.Buffer
	data, n, err := Collect(&buf, wire.ModeReader, &rows{r: []string{`{"a":1}`, `{"a":2}`}}, 100)
	if err != nil || n != 2 || string(data) != `[{"a":1},{"a":2}]` {
		t.Fatalf("reader: %s %d %v", data, n, err)
	}
	buf.Reset()
	if data, n, err = Collect(&buf, wire.ModeScalar, &rows{r: []string{`{"a":7}`}}, 100); err != nil || n != 1 || string(data) != "7" {
		t.Fatalf("scalar: %s %d %v", data, n, err)
	}
	buf.Reset()
	if data, _, err = Collect(&buf, wire.ModeScalar, &rows{}, 100); err != nil || string(data) != "null" {
		t.Fatalf("empty scalar: %s %v", data, err)
	}
	buf.Reset()
	if _, _, err = Collect(&buf, wire.ModeReader, &rows{r: []string{`{"a":"` + strings.Repeat("x", 200) + `"}`}}, 100); err == nil || err.(*wire.Error).Kind != wire.KindTooLarge {
		t.Fatalf("over the cap: %v", err)
	}
}

// NDJSON pages become one JSON array, lines longer than the read buffer
// and a missing final newline included.
func TestCopyArray(t *testing.T) {
	long := `{"x":"` + strings.Repeat("y", 100<<10) + `"}`
	for in, want := range map[string]string{
		"":                         "[]",
		"{\"a\":1}\n":              `[{"a":1}]`,
		"{\"a\":1}\n{\"a\":2}":     `[{"a":1},{"a":2}]`,
		long + "\n{\"a\":2}\n":     "[" + long + `,{"a":2}]`,
		"{\"a\":1}\n\n{\"a\":2}\n": `[{"a":1},{"a":2}]`,
	} {
		var out bytes.Buffer
		if err := CopyArray(&out, strings.NewReader(in)); err != nil || out.String() != want {
			t.Errorf("CopyArray(%.20q) = %.40q %v, want %.40q", in, out.String(), err, want)
		}
	}
}

// Failures map to the mirrored statuses and errorDetails; an error that
// is neither the agent's nor the tunnel's is the caller's to answer.
func TestFail(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	sent := time.Now().UTC()
	for _, tc := range []struct {
		err            error
		status         int
		qStatus, eType string
		code           int
	}{
		{&wire.Error{Kind: wire.KindDatabase, Engine: "sqlserver", Code: "208", Message: "Invalid object name"}, 400, StatusExecutionFailed, "mssql", 208},
		{&wire.Error{Kind: wire.KindDatabase, Engine: "postgres", Code: "42P01", Message: "no table"}, 400, StatusExecutionFailed, "postgres", 400},
		{&wire.Error{Kind: wire.KindExpiredInQueue, Message: "busy"}, 503, StatusExpiredInQueue, "fhirlink", 503},
		{&wire.Error{Kind: wire.KindTimeout, Message: "slow"}, 504, StatusExecutionFailed, "fhirlink", 504},
		{&wire.Error{Kind: "surprise", Message: "secret detail"}, 500, StatusExecutionFailed, "fhirlink", 500},
		{server.Errorf(server.EUNAVAILABLE, "tunnel broke"), 503, StatusExecutionFailed, "fhirlink", 503},
	} {
		o := &Object{StatusTiming: map[string]Period{}}
		status, ok := o.Fail(tc.err, sent, log)
		if !ok || status != tc.status || o.Status != tc.qStatus || o.ErrorDetails.ErrorType != tc.eType || o.ErrorDetails.ErrorCode != tc.code {
			t.Errorf("%v: %d %v %+v", tc.err, status, ok, o.ErrorDetails)
		}
		if strings.Contains(o.ErrorDetails.ErrorMessage, "secret") {
			t.Errorf("an unknown agent failure shows its detail: %q", o.ErrorDetails.ErrorMessage)
		}
	}
	pg := &Object{StatusTiming: map[string]Period{}}
	pg.Fail(&wire.Error{Kind: wire.KindDatabase, Engine: "postgres", Code: "42P01"}, sent, log)
	if pg.ErrorDetails.SQLState != "42P01" {
		t.Errorf("PostgreSQL's SQLSTATE: %+v", pg.ErrorDetails)
	}
	o := &Object{StatusTiming: map[string]Period{}}
	if _, ok := o.Fail(server.Errorf(server.EINTERNAL, "ours"), sent, log); ok || o.Status != "" {
		t.Fatalf("the caller's own failure was recorded: %+v", o)
	}
}
