// Package mappings turns FHIR searches into the SQL of a practice management
// system and its rows back into FHIR resources. Package aucore defines each
// resource once (Def: its searches, canonical row and row function); each
// PMS has a subpackage (bppremier, zedmed) that maps the definitions onto
// its tables (Impl: a column map, a FROM template, its code values). The
// dialect layer renders what differs between engines.
package mappings

import (
	"bytes"
	"encoding/json"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
)

// Query is SQL ready for the agent: request values appear only as named
// parameters (@p1, @p2, ...), which the agent binds.
type Query struct {
	SQL    string
	Params []wire.Param
}

// Site is what a mapping needs to know of the practice.
type Site struct {
	// Location is the practice's time zone: PMS times carry none.
	Location *time.Location
	// Base is the FHIR base URL, for absolute references where needed.
	Base string
}

// Row is one resource made from one row.
type Row struct {
	// ID is the resource's id, as in Resource; set by the row function from
	// the row's id column, so nothing needs to read it back out of the JSON.
	ID       string
	Resource json.RawMessage
	// Refs are the ids this resource references, by include parameter name
	// ("practitioner" → "12"), for _include.
	Refs map[string][]string
}

// Resource maps one FHIR resource type onto a PMS's tables.
type Resource interface {
	Decl() *fhir.ResourceDecl
	// Search renders one page of s: at most s.Count+1 rows, in s.Sort
	// order, after s.After when set. Reads are searches on _id.
	Search(d Dialect, s *fhir.Search) (Query, error)
	// Count renders a query whose one row's first column counts s's matches.
	Count(d Dialect, s *fhir.Search) (Query, error)
	// Row turns one result row (a JSON object from the agent) into a
	// resource and its id.
	Row(row []byte, site Site) (Row, error)
	// Cursor returns a row's sort key values, formatted for the next page's
	// fhir.Search.After. Only a page's last row needs one, so it is apart
	// from Row.
	Cursor(row []byte) ([]string, error)
}

// Mapping is one PMS's resources.
type Mapping struct {
	PMSType   string // as the server's site records it: BestPractice, Zedmed
	Resources []Resource
	// Writes are the FHIR writes the PMS takes (nil: none).
	Writes *Writes
}

// Resource returns the resource of the given FHIR type.
func (m *Mapping) Resource(typ string) (Resource, bool) {
	for _, r := range m.Resources {
		if r.Decl().Type == typ {
			return r, true
		}
	}
	return nil, false
}

// ResourceID returns the id of a resource encoded by [Marshal], read where
// Marshal puts it, right after resourceType (the models declare id first),
// without decoding the resource; "" when it is not there.
func ResourceID(resource json.RawMessage) string {
	rest, ok := bytes.CutPrefix(resource, []byte(`{"resourceType":"`))
	if !ok {
		return ""
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return ""
	}
	rest, ok = bytes.CutPrefix(rest[i+1:], []byte(`,"id":"`))
	if !ok {
		return ""
	}
	// FHIR ids ([A-Za-z0-9.-]) are never escaped: one that needs an
	// escape is no id.
	i = bytes.IndexAny(rest, `"\`)
	if i <= 0 || rest[i] != '"' {
		return ""
	}
	return string(rest[:i])
}
