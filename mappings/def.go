package mappings

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"text/template"

	"fhirlink/fhir"
)

// A resource is defined once for every PMS (package aucore holds the
// definitions): a Def is its search surface, the columns of its canonical
// row and its one row → resource function. A PMS turns a Def into a Table
// with Def.Table, giving only what is its own (an Impl): the SQL expression
// of each canonical column, the FROM and JOINs of its query, the code values
// the row function reads, and the predicates that are genuinely its own.

// Cols is a PMS's column map for one resource: each canonical column (and
// each name a parameter's predicate reads) → that PMS's SQL expression.
// The select list and the predicates are built from the same map, so a
// column is written once.
//
// An expression may be a text/template action (it is placed in the query's
// template as it is) only when no predicate reads it.
type Cols map[string]string

// Col returns the expression of column name; a name the map lacks is a
// programming error (a Def reading a column the PMS did not map), found
// when the mapping loads.
func (c Cols) Col(name string) string {
	e, ok := c[name]
	if !ok {
		panic(fmt.Sprintf("mappings: no column %q in the column map", name))
	}
	return e
}

// Def is one FHIR resource type as every PMS serves it. C is the type of
// the code tables the PMS gives the row function (its status codes, its
// sexes, its identifier systems).
type Def[C any] struct {
	Type     string
	Profiles []string
	// Columns is the canonical row, in select order: each PMS selects each
	// column as "expr AS name". ColumnsOf reads it from the struct the row
	// function decodes.
	Columns []string
	// Optional are the columns a PMS may leave out of its map (it has no
	// such data): the row function reads them as NULL.
	Optional []string
	// Filters are names the parameters' predicates read that the row does
	// not select (the referring table's foreign key, where the row carries
	// the joined table's key); each PMS maps them like columns.
	Filters []string
	Params  []ParamDef[C]
	// Sorts are the _sort keys; _id must be among them.
	Sorts       []SortDef
	Includes    []fhir.Include
	RevIncludes []fhir.Include
	// DefaultCount and MaxCount bound _count.
	DefaultCount, MaxCount int
	// Row turns one canonical row into the resource; it sets Row.ID.
	Row func(codes C, row []byte, site Site) (Row, error)
}

// ParamDef is a search parameter of a Def: what the CapabilityStatement
// says of it and how its predicate is made from a PMS's columns.
type ParamDef[C any] struct {
	Name    string
	Type    fhir.ParamType
	Targets []string
	Doc     string
	// Match builds the predicate from the PMS's columns, MatchCodes from its
	// columns and codes. Neither is set when the predicate is each PMS's own
	// (an identifier's rules): Impl.Match gives it.
	Match      func(c Cols) Matcher
	MatchCodes func(c Cols, codes C) Matcher
	// ChainBy, on a reference parameter, are its target's parameters it can
	// be chained by; ChainColumn is the column holding the referenced id,
	// and Impl.Chains the target.
	ChainBy     []string
	ChainColumn string
}

// SortDef is a _sort key of a Def, made from the PMS's columns.
type SortDef struct {
	Name string
	Sort func(c Cols) Sort
}

// SortIntCol, SortTextCol and SortDateTimeCol sort by a column of the
// canonical row (see SortInt, SortText, SortDateTime).
func SortIntCol(name, col string) SortDef {
	return SortDef{Name: name, Sort: func(c Cols) Sort { return SortInt(c.Col(col)) }}
}

// SortTextCol: see SortIntCol.
func SortTextCol(name, col string) SortDef {
	return SortDef{Name: name, Sort: func(c Cols) Sort { return SortText(c.Col(col)) }}
}

// SortDateTimeCol: see SortIntCol.
func SortDateTimeCol(name, col string) SortDef {
	return SortDef{Name: name, Sort: func(c Cols) Sort { return SortDateTime(c.Col(col)) }}
}

// Impl is what one PMS gives a Def to make it a Table.
type Impl[C any] struct {
	// Cols maps every canonical column (Def.Columns) to the PMS's SQL.
	Cols Cols
	// From is a text/template (with Funcs) of the query after its select
	// list: FROM, the joins, and WHERE with the condition of the rows that
	// are this resource, last. The table adds the select list, the search's
	// predicates, ORDER BY and the limit around it.
	From  string
	Funcs template.FuncMap
	Codes C
	// Match are the PMS's own predicates: for the parameters whose Def
	// gives none, or in place of the Def's.
	Match map[string]Matcher
	// Omit names the Def's parameters, sorts and _include parameters this
	// PMS does not offer (its data has nothing to search them by); a name
	// omits all three of that name, "_sort:" and a name the sort alone.
	Omit []string
	// Chains are the targets of the Def's chainable parameters, by type.
	Chains map[string]ChainTarget
	// Profiles, when set, are the PMS's in place of the Def's (the
	// Observation profiles of what it records).
	Profiles []string
	// IDs and Defaults are as in TableSpec.
	IDs      string
	Defaults []Default
}

// Table makes the Def a Table over one PMS's tables. It panics on a
// mistake in the Impl (a canonical column not mapped, a name mapped that
// the Def does not have, a parameter left without a predicate), which is a
// programming error found by any test that loads the mapping.
func (d *Def[C]) Table(impl Impl[C]) *Table {
	fail := func(format string, args ...any) {
		panic(fmt.Sprintf("mappings: %s: %s", d.Type, fmt.Sprintf(format, args...)))
	}
	var columns []string
	for _, name := range d.Columns {
		if _, ok := impl.Cols[name]; ok {
			columns = append(columns, name)
		} else if !slices.Contains(d.Optional, name) {
			fail("column %s is not mapped", name)
		}
	}
	for _, name := range d.Filters {
		if _, ok := impl.Cols[name]; !ok {
			fail("filter expression %s is not mapped", name)
		}
	}
	for name := range impl.Cols {
		if !slices.Contains(d.Columns, name) && !slices.Contains(d.Filters, name) {
			fail("%s is mapped but the definition has no such column", name)
		}
	}
	omit := func(name string) bool { return slices.Contains(impl.Omit, name) }
	omitSort := func(name string) bool { return omit(name) || omit(sortOnly+name) }
	known := map[string]bool{}
	spec := TableSpec{
		Type:         d.Type,
		Profiles:     d.Profiles,
		SQL:          selectSQL(columns, impl.Cols, impl.From),
		Funcs:        impl.Funcs,
		Sorts:        map[string]Sort{},
		RevIncludes:  d.RevIncludes,
		IDs:          impl.IDs,
		Defaults:     impl.Defaults,
		DefaultCount: d.DefaultCount,
		MaxCount:     d.MaxCount,
		Row:          func(row []byte, site Site) (Row, error) { return d.Row(impl.Codes, row, site) },
	}
	if impl.Profiles != nil {
		spec.Profiles = impl.Profiles
	}
	for _, p := range d.Params {
		known[p.Name] = true
		if omit(p.Name) {
			continue
		}
		param := Param{Name: p.Name, Type: p.Type, Targets: p.Targets, Doc: p.Doc}
		switch m, ok := impl.Match[p.Name]; {
		case ok:
			param.Match = m
		case p.Match != nil:
			param.Match = p.Match(impl.Cols)
		case p.MatchCodes != nil:
			param.Match = p.MatchCodes(impl.Cols, impl.Codes)
		default:
			fail("parameter %s needs the PMS's predicate (Impl.Match)", p.Name)
		}
		if p.ChainBy != nil {
			target, ok := impl.Chains[p.Targets[0]]
			if !ok {
				fail("parameter %s is chained: Impl.Chains needs its target %s", p.Name, p.Targets[0])
			}
			param.Chain = &Chain{Column: impl.Cols.Col(p.ChainColumn), Target: target, Params: p.ChainBy}
		}
		spec.Params = append(spec.Params, param)
	}
	for name := range impl.Match {
		if !known[name] {
			fail("Impl.Match has %s, which the definition does not declare", name)
		}
	}
	for _, s := range d.Sorts {
		known[s.Name] = true
		known[sortOnly+s.Name] = true
		if !omitSort(s.Name) {
			spec.Sorts[s.Name] = s.Sort(impl.Cols)
		}
	}
	for _, inc := range d.Includes {
		known[inc.Param] = true
		if !omit(inc.Param) {
			spec.Includes = append(spec.Includes, inc)
		}
	}
	for _, name := range impl.Omit {
		if !known[name] || name == "_id" || name == sortOnly+"_id" {
			fail("Impl.Omit has %s, which is not an optional parameter, sort or include of the definition", name)
		}
	}
	return NewTable(spec)
}

// sortOnly prefixes a sort's name in Impl.Omit to omit the sort and not
// the parameter of that name.
const sortOnly = "_sort:"

// selectSQL is a table's SQL template: the select list of the canonical
// columns, then from, then the search's predicates, order and limit.
func selectSQL(columns []string, cols Cols, from string) string {
	var b strings.Builder
	b.WriteString(`{{.Select}}{{if .Count}} COUNT(*) AS "total"{{else}}`)
	for i, name := range columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    " + cols[name] + ` AS "` + name + `"`)
	}
	b.WriteString("{{.Keys}}{{end}}\n")
	b.WriteString(strings.TrimRight(from, "\n"))
	b.WriteString("{{.Where}}{{if not .Count}}\nORDER BY {{.OrderBy}}{{end}}{{.Limit}}\n")
	return b.String()
}

// ColumnsOf is the canonical row of the struct T a row function decodes:
// the json names of its fields (those of embedded structs in place), in
// order.
func ColumnsOf[T any]() []string {
	p, err := planOf(reflect.TypeFor[T]())
	if err != nil {
		panic(err.Error())
	}
	out := make([]string, len(p.fields))
	for i, f := range p.fields {
		out[i] = f.name
	}
	return out
}
