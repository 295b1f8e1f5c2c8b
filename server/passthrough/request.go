// Package passthrough is the model of the SQL passthrough API, whose shapes
// mirror the commercial API integrators migrate from: a query request
// checked and turned into the agent's [wire.QueryRequest], and the query
// object that answers it, immediate or async, with the failure of a query
// mapped to its status and errorDetails.
//
// It knows nothing of HTTP routing or of how a query reaches its agent:
// server/api answers immediate queries with it and server/async keeps
// async and registered queries' objects in the state store.
package passthrough

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// Limits of queries, as the passthrough API documents them.
const (
	DefaultImmediateTimeout    = 60 * time.Second
	DefaultImmediateMaxBytes   = 8 << 20
	DefaultMaxTimeInQueue      = 30 * time.Second
	MaxImmediateTimeInQueue    = 60 * time.Second
	DefaultAsyncMaxTimeInQueue = time.Hour
	MaxAsyncTimeInQueue        = 2 * time.Hour
)

// Input is the passthrough API's query request.
type Input struct {
	Command *struct {
		Text          string  `json:"text"`
		ExecutionMode string  `json:"executionMode"`
		Type          string  `json:"type"`
		Parameters    []Param `json:"parameters"`
	} `json:"command"`
	MaxTimeInQueue *int64 `json:"maxTimeInQueue"`
	Catalogue      string `json:"catalogue"`
}

// Param is a parameter as the passthrough API sends it: a [wire.Param]
// whose value is still JSON, since a Variant's may be a number or a
// boolean.
type Param struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Value     json.RawMessage `json:"value"`
	Direction string          `json:"direction,omitempty"`
	Size      int             `json:"size,omitempty"`
}

// wire turns p into the agent's form. A value is a JSON string or null;
// for a Variant (SQL Server's sql_variant, whose value carries its own
// type) it may also be a number or a boolean, and the parameter gets the
// type of that value, as a .NET client's would: Int or BigInt for an
// integer, Decimal for a number with a fraction (kept exact), Float for one
// with an exponent (or beyond Decimal's 38 digits), Bit for a boolean. A
// Variant string stays a Variant, which the agent binds as NVarChar.
func (p Param) wire() (wire.Param, error) {
	w := wire.Param{Name: p.Name, Type: p.Type, Direction: p.Direction, Size: p.Size}
	raw := bytes.TrimSpace(p.Value)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return w, nil
	case raw[0] == '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return w, server.Errorf(server.EINVALID, "parameter %s: the value is not a valid JSON string", p.Name)
		}
		w.Value = &v
		return w, nil
	case !strings.EqualFold(p.Type, "Variant"):
		return w, server.Errorf(server.EINVALID, "parameter %s: the value must be a string or null, like \"42\" (a JSON number or boolean is taken for Variant parameters only)", p.Name)
	case string(raw) == "true" || string(raw) == "false":
		v := string(raw)
		w.Type, w.Value = "Bit", &v
		return w, nil
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		v := string(raw)
		w.Type, w.Value = variantNumberType(v), &v
		return w, nil
	}
	return w, server.Errorf(server.EINVALID, "parameter %s: a Variant value must be a string, a number, a boolean or null, not an object or array", p.Name)
}

// variantNumberType is the parameter type of a JSON number given for a
// Variant.
func variantNumberType(n string) string {
	if strings.ContainsAny(n, "eE") {
		return "Float"
	}
	if !strings.Contains(n, ".") {
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return "Int"
			}
			return "BigInt"
		}
	}
	digits := 0
	for i := 0; i < len(n); i++ {
		if n[i] >= '0' && n[i] <= '9' {
			digits++
		}
	}
	if digits > 38 {
		return "Float"
	}
	return "Decimal"
}

// Immediate checks an immediate query request and turns it into the
// agent's form.
func (in *Input) Immediate() (wire.QueryRequest, error) {
	q, err := in.Query()
	if err != nil {
		return q, err
	}
	q.MaxTimeInQueueMS, err = in.maxTimeInQueue(DefaultMaxTimeInQueue, MaxImmediateTimeInQueue, "immediate")
	return q, err
}

// Async checks an async query request and turns it into the agent's form
// (still at the interactive priority: the caller queues it).
func (in *Input) Async() (wire.QueryRequest, error) {
	q, err := in.Query()
	if err != nil {
		return q, err
	}
	if q.Mode == wire.ModeScalar {
		return q, server.Errorf(server.EINVALID, "executionMode scalar is for immediate queries; use reader for async queries")
	}
	q.MaxTimeInQueueMS, err = in.maxTimeInQueue(DefaultAsyncMaxTimeInQueue, MaxAsyncTimeInQueue, "async")
	return q, err
}

func (in *Input) maxTimeInQueue(def, most time.Duration, kind string) (int64, error) {
	wait := def.Milliseconds()
	if in.MaxTimeInQueue != nil {
		wait = *in.MaxTimeInQueue
	}
	if wait < 0 || wait > most.Milliseconds() {
		return 0, server.Errorf(server.EINVALID, "maxTimeInQueue must be between 0 and %d ms for %s queries", most.Milliseconds(), kind)
	}
	return wait, nil
}

// Query checks the command of a query request (all but maxTimeInQueue,
// whose range depends on the kind of query) and turns it into the agent's
// form, at the interactive priority.
func (in *Input) Query() (wire.QueryRequest, error) {
	var q wire.QueryRequest
	if in.Command == nil || strings.TrimSpace(in.Command.Text) == "" {
		return q, server.Errorf(server.EINVALID, "command.text is required")
	}
	q.Text, q.Catalogue, q.Priority = in.Command.Text, in.Catalogue, wire.PriorityInteractive
	switch m := wire.Mode(in.Command.ExecutionMode); m {
	case "":
		q.Mode = wire.ModeReader
	case wire.ModeReader, wire.ModeScalar, wire.ModeNonQuery:
		q.Mode = m
	default:
		return q, server.Errorf(server.EINVALID, "unknown command.executionMode %q: use reader, scalar or nonQuery", m)
	}
	switch t := wire.CommandType(in.Command.Type); t {
	case "":
		q.Type = wire.CommandText
	case wire.CommandText, wire.CommandStoredProcedure:
		q.Type = t
	default:
		return q, server.Errorf(server.EINVALID, "unknown command.type %q: use text or storedProcedure", t)
	}
	for i, p := range in.Command.Parameters {
		if strings.TrimLeft(p.Name, "@") == "" {
			return q, server.Errorf(server.EINVALID, "command.parameters[%d].name is required", i)
		}
		t := slices.IndexFunc(wire.ParamTypes, func(s string) bool { return strings.EqualFold(s, p.Type) })
		if t < 0 {
			return q, server.Errorf(server.EINVALID, "parameter %s: unknown type %q; use a SQL Server type name such as Int, NVarChar, DateTime2 or Decimal", p.Name, p.Type)
		}
		p.Type = wire.ParamTypes[t]
		if p.Direction != "" && !slices.Contains(wire.Directions, p.Direction) {
			return q, server.Errorf(server.EINVALID, "parameter %s: unknown direction %q; use input, output, inputOutput or returnValue", p.Name, p.Direction)
		}
		wp, err := p.wire()
		if err != nil {
			return q, err
		}
		q.Params = append(q.Params, wp)
	}
	return q, nil
}

// CheckAgainstSite refuses what the site's connected agent says it cannot
// do: writes at a read-only site, an unknown catalogue.
func CheckAgainstSite(q wire.QueryRequest, info wire.Info) error {
	if q.Writes() && !info.AllowWrites {
		return server.WritesDisabled()
	}
	if q.Catalogue == "" {
		return nil
	}
	var names []string
	for _, cat := range info.Catalogues {
		if cat.Name == q.Catalogue {
			return nil
		}
		names = append(names, strconv.Quote(cat.Name))
	}
	return server.Errorf(server.EINVALID, "unknown catalogue %q; this site has %s", q.Catalogue, strings.Join(names, ", "))
}
