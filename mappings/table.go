package mappings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
)

// Parameter types of the values mappings bind, as the agent's wire protocol
// names them (SQL Server type names, bound on every engine).
const (
	ParamInt      = "Int"
	ParamVarChar  = "VarChar"
	ParamDateTime = "DateTime2"
)

// BadRequestError reports a search that is well formed for the FHIR layer
// but that the mapping cannot run as asked (a boolean that is neither true
// nor false, a modifier the parameter does not take, a paging cursor that
// does not fit the sort). The server answers it with 400 and its message.
type BadRequestError struct {
	Param string // the parameter at fault, "" for the search as a whole
	Msg   string
}

func (e *BadRequestError) Error() string {
	if e.Param == "" {
		return e.Msg
	}
	return "parameter " + e.Param + ": " + e.Msg
}

func badRequest(param, format string, args ...any) error {
	return &BadRequestError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Builder collects the parameters of one query while its predicates are
// rendered: every request value goes through Param and only its placeholder
// reaches the SQL text.
type Builder struct {
	Dialect Dialect
	params  []wire.Param
}

// Param binds value as a parameter of the given wire type and returns its
// placeholder ("@p1").
func (b *Builder) Param(typ, value string) string {
	name := "p" + strconv.Itoa(len(b.params)+1)
	b.params = append(b.params, wire.Param{Name: name, Type: typ, Value: &value})
	return "@" + name
}

// Params returns the parameters bound so far.
func (b *Builder) Params() []wire.Param { return b.params }

// Predicates that match nothing and everything.
const (
	SQLFalse = "1 = 0"
	SQLTrue  = "1 = 1"
)

// Matcher renders the predicate that one value of a search parameter
// matches. modifier is the clause's modifier; for token parameters :not is
// handled by the table, which hands the matcher "" and negates the result.
// A predicate containing a top-level OR must be parenthesised.
type Matcher interface {
	Match(b *Builder, modifier string, v fhir.Value) (string, error)
}

// MatchFunc adapts a function to Matcher.
type MatchFunc func(b *Builder, modifier string, v fhir.Value) (string, error)

// Match calls f.
func (f MatchFunc) Match(b *Builder, modifier string, v fhir.Value) (string, error) {
	return f(b, modifier, v)
}

// Param is one search parameter of a Table: what the CapabilityStatement
// says of it and the predicate it becomes.
type Param struct {
	Name    string
	Type    fhir.ParamType
	Targets []string // reference parameters: the resource types referenced
	Doc     string
	Match   Matcher
	// Chain, on a reference parameter, lets it be chained by parameters of
	// its target (Condition?patient.identifier=...).
	Chain *Chain
}

// Chain declares the chains of a reference parameter with one target:
// param.name=value matches the rows whose Column is among the ids of the
// Target resources matching name=value, rendered as
// Column IN (Target's ids subquery).
type Chain struct {
	// Column is the SQL expression holding the referenced id in the
	// referring table's query.
	Column string
	// Target is the referenced resource.
	Target ChainTarget
	// Params are the Target's parameters the reference can be chained by;
	// none of them may be a reference.
	Params []string
}

// ChainTarget is a resource other resources' parameters can be chained
// through.
type ChainTarget interface {
	Decl() *fhir.ResourceDecl
	// IDs renders a SELECT of one column, the ids of the resources
	// matching c (a clause on one of the target's own parameters),
	// binding values in b so they are numbered with the enclosing query's.
	// The target's default filters do not apply: a chain finds what a
	// reference by id finds.
	IDs(b *Builder, c fhir.Clause) (string, error)
}

// Sort is a _sort key: a non-null SQL expression and the wire type its
// cursor values are bound as. Build one with SortInt, SortText or
// SortDateTime, which make the expression non-null so that engines' NULL
// ordering rules never matter.
type Sort struct {
	expr func(Dialect) string
	typ  string
}

// SortInt sorts by a non-null integer expression (a key column).
func SortInt(expr string) Sort {
	return Sort{expr: func(Dialect) string { return expr }, typ: ParamInt}
}

// SortText sorts by a text column, ignoring case and padding; NULL sorts
// as the empty string.
func SortText(expr string) Sort {
	return Sort{expr: func(d Dialect) string { return "COALESCE(LOWER(" + d.RTrim(expr) + "), '')" }, typ: ParamVarChar}
}

// SortDateTime sorts by a datetime column; NULL sorts first ascending.
func SortDateTime(expr string) Sort {
	return Sort{expr: func(d Dialect) string { return "COALESCE(" + expr + ", " + d.MinDateTime() + ")" }, typ: ParamDateTime}
}

// Default is a filter a table applies unless the search names one of the
// Unless parameters. Not for inactive records: a search must find what a
// read finds (an inactive practitioner by its HPI-I), so mappings filter
// them only when asked (active=true).
type Default struct {
	Where  string
	Unless []string
}

// TableSpec describes a resource as a table: its SQL, parameters, sorts and
// row function. NewTable checks it and returns the Resource.
type TableSpec struct {
	Type     string
	Profiles []string
	// SQL is a text/template of the SELECT. It is executed with
	// SelectData and must start with .Select, place .Keys at the end of the
	// select list, .Where after its own WHERE condition, and ORDER BY
	// .OrderBy followed by .Limit; with .Count it must select COUNT(*) and
	// nothing else, without ORDER BY.
	SQL      string
	Funcs    template.FuncMap // extra template functions for SQL
	Params   []Param
	Sorts    map[string]Sort // must include _id
	Includes []fhir.Include
	// RevIncludes are the _revinclude values the resource supports (each
	// with Target this Type); the HTTP layer runs them as searches of
	// Source by Param, so each Source must declare Param.
	RevIncludes []fhir.Include
	// IDs, when set, makes the resource a chain target: a text/template
	// (with Funcs) of a SELECT of the id column of the resource's live
	// rows, FROM the tables the chainable parameters' predicates name and
	// ending in its WHERE condition followed by .Where. It is executed
	// with SelectData (Where and Dialect set).
	IDs      string
	Defaults []Default
	// DefaultCount and MaxCount bound _count.
	DefaultCount, MaxCount int
	// Row turns one result row into the resource and its references; the
	// table adds the cursor.
	Row func(row []byte, site Site) (Row, error)
}

// SelectData is what a table's SQL template is executed with.
type SelectData struct {
	Count   bool   // render the count query
	Select  string // "SELECT", or "SELECT TOP (@p3)" on SQL Server
	Keys    string // the sort key columns, each as ",\n    expr AS \"_kN\""
	Where   string // the search's predicates, each as "\n  AND pred"
	OrderBy string
	Limit   string // at the very end: "\nLIMIT @p3", or "" on SQL Server
	Dialect Dialect
}

// maxSortKeys bounds the sort keys of one search, _id included.
const maxSortKeys = 8

// Table is a Resource made from a TableSpec.
type Table struct {
	spec   TableSpec
	decl   fhir.ResourceDecl
	tmpl   *template.Template
	ids    *template.Template // nil unless spec.IDs is set
	params map[string]Param
}

var _ Resource = (*Table)(nil)

// NewTable checks spec and parses its SQL. It panics on a mistake in the
// spec, which is a programming error found by any test that loads the
// mapping.
func NewTable(spec TableSpec) *Table {
	t := &Table{spec: spec, params: map[string]Param{}}
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("mappings: %s: %s", spec.Type, fmt.Sprintf(format, args...)))
	}
	for _, p := range spec.Params {
		if p.Match == nil {
			fail("parameter %s has no matcher", p.Name)
		}
		if _, dup := t.params[p.Name]; dup {
			fail("parameter %s declared twice", p.Name)
		}
		t.params[p.Name] = p
		sp := fhir.SearchParam{Name: p.Name, Type: p.Type, Targets: p.Targets, Doc: p.Doc}
		if p.Chain != nil {
			chains, err := chainParams(p)
			if err != nil {
				fail("parameter %s: %v", p.Name, err)
			}
			sp.Chains = chains
		}
		t.decl.Params = append(t.decl.Params, sp)
	}
	for _, inc := range spec.RevIncludes {
		if inc.Target != spec.Type || inc.Source == "" || inc.Param == "" {
			fail("_revinclude %s: its target must be %s", inc, spec.Type)
		}
	}
	if _, ok := t.params["_id"]; !ok {
		fail("no _id parameter: reads are searches on _id")
	}
	if _, ok := spec.Sorts["_id"]; !ok {
		fail("no _id sort: every sort ends with _id")
	}
	for name, s := range spec.Sorts {
		if s.expr == nil {
			fail("sort %s has no expression", name)
		}
		if name != "_id" {
			t.decl.Sorts = append(t.decl.Sorts, name)
		}
	}
	slices.Sort(t.decl.Sorts)
	for _, d := range spec.Defaults {
		for _, u := range d.Unless {
			if _, ok := t.params[u]; !ok {
				fail("default filter names undeclared parameter %s", u)
			}
		}
	}
	if spec.Row == nil {
		fail("no row function")
	}
	if spec.DefaultCount <= 0 || spec.MaxCount < spec.DefaultCount {
		fail("bad _count bounds %d/%d", spec.DefaultCount, spec.MaxCount)
	}
	t.decl.Type = spec.Type
	t.decl.Profiles = spec.Profiles
	t.decl.Includes = spec.Includes
	t.decl.RevIncludes = spec.RevIncludes
	t.decl.DefaultCount, t.decl.MaxCount = spec.DefaultCount, spec.MaxCount
	tmpl, err := template.New(spec.Type).Option("missingkey=error").Funcs(spec.Funcs).Parse(spec.SQL)
	if err != nil {
		fail("SQL template: %v", err)
	}
	t.tmpl = tmpl
	if spec.IDs != "" {
		ids, err := template.New(spec.Type + " ids").Option("missingkey=error").Funcs(spec.Funcs).Parse(spec.IDs)
		if err != nil {
			fail("IDs template: %v", err)
		}
		t.ids = ids
	}
	return t
}

// chainParams checks p's chain and returns the chained parameters as the
// target declares them.
func chainParams(p Param) ([]fhir.SearchParam, error) {
	c := p.Chain
	switch {
	case p.Type != fhir.TypeReference:
		return nil, errors.New("only reference parameters can be chained")
	case len(p.Targets) != 1:
		return nil, errors.New("a chained parameter must have exactly one target")
	case c.Column == "" || c.Target == nil || len(c.Params) == 0:
		return nil, errors.New("the chain needs a column, a target and parameters")
	case c.Target.Decl().Type != p.Targets[0]:
		return nil, fmt.Errorf("the chain's target is %s, the parameter's %s", c.Target.Decl().Type, p.Targets[0])
	}
	if t, ok := c.Target.(*Table); ok && t.ids == nil {
		return nil, fmt.Errorf("%s declares no IDs SQL: it cannot be a chain target", t.decl.Type)
	}
	var out []fhir.SearchParam
	for _, name := range c.Params {
		sp, ok := c.Target.Decl().Param(name)
		if !ok {
			return nil, fmt.Errorf("%s has no parameter %s to chain by", p.Targets[0], name)
		}
		if sp.Type == fhir.TypeReference {
			return nil, fmt.Errorf("chaining by the reference %s is not supported", name)
		}
		out = append(out, sp)
	}
	return out, nil
}

// IDs implements [ChainTarget]: the spec's IDs SELECT with c's predicate.
func (t *Table) IDs(b *Builder, c fhir.Clause) (string, error) {
	if t.ids == nil {
		return "", fmt.Errorf("mappings: %s cannot be chained through", t.decl.Type)
	}
	p, ok := t.params[c.Param.Name]
	if !ok || c.Chain != nil || p.Type == fhir.TypeReference {
		return "", badRequest(c.Param.Name, "%s cannot be searched by %q through a chain", t.decl.Type, c.Param.Name)
	}
	pred, err := clause(b, p, c)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if err := t.ids.Execute(&out, SelectData{Select: "SELECT", Where: "\n      AND " + pred, Dialect: b.Dialect}); err != nil {
		return "", fmt.Errorf("mappings: %s: IDs template: %w", t.decl.Type, err)
	}
	return out.String(), nil
}

// chained renders a chained clause: p's column among the ids of the target
// resources matching the chained parameter.
func chained(b *Builder, p Param, c fhir.Clause) (string, error) {
	if p.Chain == nil || !slices.Contains(p.Chain.Params, c.Chain.Name) {
		return "", badRequest(p.Name+"."+c.Chain.Name, "%s cannot be chained by %s", p.Name, c.Chain.Name)
	}
	sub, err := p.Chain.Target.IDs(b, fhir.Clause{Param: *c.Chain, Modifier: c.Modifier, Values: c.Values})
	if err != nil {
		return "", err
	}
	return p.Chain.Column + " IN (" + sub + ")", nil
}

// Decl is what the table supports.
func (t *Table) Decl() *fhir.ResourceDecl { return &t.decl }

// Search renders one page of s.
func (t *Table) Search(d Dialect, s *fhir.Search) (Query, error) {
	return t.render(d, s, false)
}

// Count renders the query counting s's matches.
func (t *Table) Count(d Dialect, s *fhir.Search) (Query, error) {
	return t.render(d, s, true)
}

func (t *Table) render(d Dialect, s *fhir.Search, count bool) (Query, error) {
	if d == nil {
		return Query{}, fmt.Errorf("mappings: %s: no dialect", t.decl.Type)
	}
	if s.Type != "" && s.Type != t.decl.Type {
		return Query{}, fmt.Errorf("mappings: a %s search given to the %s mapping", s.Type, t.decl.Type)
	}
	b := &Builder{Dialect: d}
	preds, err := t.where(b, s)
	if err != nil {
		return Query{}, err
	}
	data := SelectData{Count: count, Select: "SELECT", Dialect: d}
	if !count {
		keys, err := t.sortKeys(s.Sort)
		if err != nil {
			return Query{}, err
		}
		var sel, order strings.Builder
		exprs := make([]string, len(keys))
		for i, k := range keys {
			exprs[i] = k.sort.expr(d)
			fmt.Fprintf(&sel, ",\n    %s AS \"_k%d\"", exprs[i], i)
			if i > 0 {
				order.WriteString(", ")
			}
			order.WriteString(exprs[i])
			if k.desc {
				order.WriteString(" DESC")
			} else {
				order.WriteString(" ASC")
			}
		}
		if s.After != nil {
			p, err := keyset(b, keys, exprs, s.After)
			if err != nil {
				return Query{}, err
			}
			preds = append(preds, p)
		}
		n := s.Count
		if n < 0 {
			n = 0
		}
		limit := b.Param(ParamInt, strconv.Itoa(n+1))
		if top := d.Top(limit); top != "" {
			data.Select += " " + top
		}
		data.Limit = d.Limit(limit)
		data.Keys, data.OrderBy = sel.String(), order.String()
	}
	var where strings.Builder
	for _, p := range preds {
		where.WriteString("\n  AND ")
		where.WriteString(p)
	}
	data.Where = where.String()
	var out bytes.Buffer
	if err := t.tmpl.Execute(&out, data); err != nil {
		return Query{}, fmt.Errorf("mappings: %s: SQL template: %w", t.decl.Type, err)
	}
	return Query{SQL: out.String(), Params: b.Params()}, nil
}

// where renders the search's clauses, and the default filters it does not
// override, as predicates to AND.
func (t *Table) where(b *Builder, s *fhir.Search) ([]string, error) {
	var preds []string
	named := map[string]bool{}
	for _, c := range s.Clauses {
		p, ok := t.params[c.Param.Name]
		if !ok {
			return nil, badRequest(c.Param.Name, "%s has no search parameter %q", t.decl.Type, c.Param.Name)
		}
		var pred string
		var err error
		if c.Chain != nil {
			pred, err = chained(b, p, c)
		} else {
			named[c.Param.Name] = true
			pred, err = clause(b, p, c)
		}
		if err != nil {
			return nil, err
		}
		preds = append(preds, pred)
	}
	for _, d := range t.spec.Defaults {
		if !slices.ContainsFunc(d.Unless, func(n string) bool { return named[n] }) {
			preds = append(preds, d.Where)
		}
	}
	return preds, nil
}

// clause renders one parameter's values: ORed, and negated as a whole
// with :not (true when no value matches, NULLs included).
func clause(b *Builder, p Param, c fhir.Clause) (string, error) {
	if len(c.Values) == 0 {
		return "", badRequest(p.Name, "no value")
	}
	mod := c.Modifier
	not := mod == fhir.ModifierNot
	if not {
		if p.Type != fhir.TypeToken {
			return "", badRequest(p.Name, "the :not modifier applies to token parameters only")
		}
		mod = ""
	}
	parts := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		pred, err := p.Match.Match(b, mod, v)
		if err != nil {
			var bad *BadRequestError
			if errors.As(err, &bad) && bad.Param == "" {
				bad.Param = p.Name
			}
			return "", err
		}
		parts = append(parts, pred)
	}
	pred := orSep(parts, "\n       OR ")
	if not {
		pred = "CASE WHEN " + pred + " THEN 1 ELSE 0 END = 0"
	}
	return pred, nil
}

type sortKey struct {
	name string
	sort Sort
	desc bool
}

// sortKeys resolves s.Sort, ending with _id (ascending unless given).
func (t *Table) sortKeys(ks []fhir.SortKey) ([]sortKey, error) {
	var keys []sortKey
	hasID := false
	for _, k := range ks {
		if hasID {
			break // nothing after the unique key changes the order
		}
		s, ok := t.spec.Sorts[k.Name]
		if !ok {
			return nil, badRequest("_sort", "%s cannot be sorted by %q", t.decl.Type, k.Name)
		}
		keys = append(keys, sortKey{name: k.Name, sort: s, desc: k.Desc})
		hasID = k.Name == "_id"
	}
	if !hasID {
		keys = append(keys, sortKey{name: "_id", sort: t.spec.Sorts["_id"]})
	}
	if len(keys) > maxSortKeys {
		return nil, badRequest("_sort", "at most %d sort keys", maxSortKeys-1)
	}
	return keys, nil
}

// keyset renders "strictly after the cursor in the sort order" as an OR of
// prefixes: k0 > c0 OR (k0 = c0 AND k1 > c1) OR ...
func keyset(b *Builder, keys []sortKey, exprs, after []string) (string, error) {
	if len(after) != len(keys) {
		return "", badRequest("", "the paging cursor does not fit the sort (%d values for %d keys); start the search again", len(after), len(keys))
	}
	vals := make([]string, len(keys))
	for i, k := range keys {
		if k.sort.typ == ParamInt {
			if _, err := strconv.ParseInt(after[i], 10, 32); err != nil {
				return "", badRequest("", "the paging cursor is not valid for this search; start the search again")
			}
		}
		vals[i] = b.Param(k.sort.typ, after[i])
	}
	var or []string
	for i, k := range keys {
		var and []string
		for j := 0; j < i; j++ {
			and = append(and, exprs[j]+" = "+vals[j])
		}
		op := " > "
		if k.desc {
			op = " < "
		}
		and = append(and, exprs[i]+op+vals[i])
		term := strings.Join(and, " AND ")
		if len(and) > 1 {
			term = "(" + term + ")"
		}
		or = append(or, term)
	}
	if len(or) == 1 {
		return or[0], nil
	}
	return "(" + strings.Join(or, "\n       OR ") + ")", nil
}

// Row turns a result row into the resource. The id is the row
// function's, or else the one Marshal wrote.
func (t *Table) Row(row []byte, site Site) (Row, error) {
	r, err := t.spec.Row(row, site)
	if err != nil {
		return Row{}, fmt.Errorf("mappings: %s row: %w", t.decl.Type, err)
	}
	if r.ID == "" {
		r.ID = ResourceID(r.Resource)
	}
	return r, nil
}

// Cursor implements [Resource]: the row's sort key columns (_k0, _k1, ...).
func (t *Table) Cursor(row []byte) ([]string, error) {
	var k cursorColumns
	if err := json.Unmarshal(row, &k); err != nil {
		return nil, fmt.Errorf("mappings: %s row: %w", t.decl.Type, err)
	}
	var cursor []string
	for _, v := range []json.RawMessage{k.K0, k.K1, k.K2, k.K3, k.K4, k.K5, k.K6, k.K7} {
		if v == nil {
			break
		}
		s, err := cursorValue(v)
		if err != nil {
			return nil, fmt.Errorf("mappings: %s row: sort key: %w", t.decl.Type, err)
		}
		cursor = append(cursor, s)
	}
	return cursor, nil
}

// cursorColumns are the sort key columns a search selects (up to
// maxSortKeys).
type cursorColumns struct {
	K0 json.RawMessage `json:"_k0"`
	K1 json.RawMessage `json:"_k1"`
	K2 json.RawMessage `json:"_k2"`
	K3 json.RawMessage `json:"_k3"`
	K4 json.RawMessage `json:"_k4"`
	K5 json.RawMessage `json:"_k5"`
	K6 json.RawMessage `json:"_k6"`
	K7 json.RawMessage `json:"_k7"`
}

// cursorValue is a sort key value as text: a string's content, a number's
// digits.
func cursorValue(v json.RawMessage) (string, error) {
	if len(v) > 0 && v[0] == '"' {
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	}
	if string(v) == "null" {
		return "", fmt.Errorf("null sort key")
	}
	return string(v), nil
}
