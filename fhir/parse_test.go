package fhir

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func param(d *ResourceDecl, name string) SearchParam {
	p, ok := d.Param(name)
	if !ok {
		panic("no param " + name)
	}
	return p
}

func strs(d *ResourceDecl, name, mod string, vals ...string) Clause {
	c := Clause{Param: param(d, name), Modifier: mod}
	for _, v := range vals {
		c.Values = append(c.Values, Value{String: v})
	}
	return c
}

func TestParseSearchClauses(t *testing.T) {
	p := patientDecl
	gp := param(p, "general-practitioner")
	tests := []struct {
		name    string
		q       url.Values
		clauses []Clause
		applied string // Applied.Encode(), _count included
	}{
		{"string default", url.Values{"family": {"smi"}},
			[]Clause{strs(p, "family", "", "smi")}, "_count=20&family=smi"},
		{"string exact", url.Values{"family:exact": {"Smith"}},
			[]Clause{strs(p, "family", "exact", "Smith")}, "_count=20&family%3Aexact=Smith"},
		{"string contains", url.Values{"family:contains": {"mit"}},
			[]Clause{strs(p, "family", "contains", "mit")}, "_count=20&family%3Acontains=mit"},
		{"OR by comma", url.Values{"family": {"smith,jones"}},
			[]Clause{strs(p, "family", "", "smith", "jones")}, "_count=20&family=smith%2Cjones"},
		{"AND by repetition", url.Values{"family": {"smi", "th"}},
			[]Clause{strs(p, "family", "", "smi"), strs(p, "family", "", "th")}, "_count=20&family=smi&family=th"},
		{"escaped comma", url.Values{"family": {`O\,Brien,Smith`}},
			[]Clause{strs(p, "family", "", "O,Brien", "Smith")}, "_count=20&family=O%5C%2CBrien%2CSmith"},
		{"escaped backslash before a comma", url.Values{"family": {`a\\,b`}},
			[]Clause{strs(p, "family", "", `a\`, "b")}, "_count=20&family=a%5C%5C%2Cb"},
		{"lone backslash is literal", url.Values{"family": {`a\b`}},
			[]Clause{strs(p, "family", "", `a\b`)}, "_count=20&family=a%5C%5Cb"},
		{"escaped pipe and dollar in a string", url.Values{"name": {`a\|b\$c`}},
			[]Clause{strs(p, "name", "", "a|b$c")}, "_count=20&name=a%5C%7Cb%5C%24c"},
		{"token code", url.Values{"gender": {"female"}},
			[]Clause{{Param: param(p, "gender"), Values: []Value{{Code: "female"}}}}, "_count=20&gender=female"},
		{"token system|code", url.Values{"identifier": {"http://ns.electronichealth.net.au/id/hi/ihi/1.0|8003608166690503"}},
			[]Clause{{Param: param(p, "identifier"), Values: []Value{{System: ptr("http://ns.electronichealth.net.au/id/hi/ihi/1.0"), Code: "8003608166690503"}}}},
			"_count=20&identifier=http%3A%2F%2Fns.electronichealth.net.au%2Fid%2Fhi%2Fihi%2F1.0%7C8003608166690503"},
		{"token |code (no system)", url.Values{"identifier": {"|123"}},
			[]Clause{{Param: param(p, "identifier"), Values: []Value{{System: ptr(""), Code: "123"}}}}, "_count=20&identifier=%7C123"},
		{"token system| (any code)", url.Values{"identifier": {"http://x|"}},
			[]Clause{{Param: param(p, "identifier"), Values: []Value{{System: ptr("http://x"), Code: ""}}}}, "_count=20&identifier=http%3A%2F%2Fx%7C"},
		{"token escaped pipe in code", url.Values{"identifier": {`s|a\|b`}},
			[]Clause{{Param: param(p, "identifier"), Values: []Value{{System: ptr("s"), Code: "a|b"}}}}, "_count=20&identifier=s%7Ca%5C%7Cb"},
		{"token not, OR", url.Values{"gender:not": {"male,other"}},
			[]Clause{{Param: param(p, "gender"), Modifier: "not", Values: []Value{{Code: "male"}, {Code: "other"}}}}, "_count=20&gender%3Anot=male%2Cother"},
		{"_id", url.Values{"_id": {"123,abc-9.x"}},
			[]Clause{{Param: idParam, Values: []Value{{Code: "123"}, {Code: "abc-9.x"}}}}, "_count=20&_id=123%2Cabc-9.x"},
		{"_id:not", url.Values{"_id:not": {"7"}},
			[]Clause{{Param: idParam, Modifier: "not", Values: []Value{{Code: "7"}}}}, "_count=20&_id%3Anot=7"},
		{"reference id", url.Values{"general-practitioner": {"12"}},
			[]Clause{{Param: gp, Values: []Value{{RefID: "12"}}}}, "_count=20&general-practitioner=12"},
		{"reference Type/id", url.Values{"general-practitioner": {"Practitioner/12,PractitionerRole/3"}},
			[]Clause{{Param: gp, Values: []Value{{RefType: "Practitioner", RefID: "12"}, {RefType: "PractitionerRole", RefID: "3"}}}},
			"_count=20&general-practitioner=Practitioner%2F12%2CPractitionerRole%2F3"},
		{"reference type modifier is normalised", url.Values{"general-practitioner:Practitioner": {"12"}, "general-practitioner": {"5"}},
			[]Clause{{Param: gp, Values: []Value{{RefID: "5"}}}, {Param: gp, Values: []Value{{RefType: "Practitioner", RefID: "12"}}}},
			"_count=20&general-practitioner=5&general-practitioner=Practitioner%2F12"},
		{"reference type modifier with matching Type/id", url.Values{"general-practitioner:Practitioner": {"Practitioner/12"}},
			[]Clause{{Param: gp, Values: []Value{{RefType: "Practitioner", RefID: "12"}}}}, "_count=20&general-practitioner=Practitioner%2F12"},
		{"SQL and LIKE metacharacters pass untouched", url.Values{"family": {"O'Brien", "%", "_", "' OR 1=1 --", "a%b_c[d]"}},
			[]Clause{strs(p, "family", "", "O'Brien"), strs(p, "family", "", "%"), strs(p, "family", "", "_"),
				strs(p, "family", "", "' OR 1=1 --"), strs(p, "family", "", "a%b_c[d]")},
			"_count=20&family=O%27Brien&family=%25&family=_&family=%27+OR+1%3D1+--&family=a%25b_c%5Bd%5D"},
		{"metacharacters in tokens too", url.Values{"identifier": {"x|' OR '1'='1"}},
			[]Clause{{Param: param(p, "identifier"), Values: []Value{{System: ptr("x"), Code: "' OR '1'='1"}}}}, "_count=20&identifier=x%7C%27+OR+%271%27%3D%271"},
		{"spaces inside strings are kept", url.Values{"name": {" van der "}},
			[]Clause{strs(p, "name", "", " van der ")}, "_count=20&name=+van+der+"},
		{"unicode", url.Values{"family": {"Nguyễn"}},
			[]Clause{strs(p, "family", "", "Nguyễn")}, "_count=20&family=Nguy%E1%BB%85n"},
		{"_format and _page_token are not parameters of the search", url.Values{"_format": {"json"}, "_page_token": {"x"}},
			nil, "_count=20"},
		{"clauses sort by name", url.Values{"gender": {"female"}, "birthdate": {"ge1990"}, "family": {"smi"}},
			nil, "_count=20&birthdate=ge1990&family=smi&gender=female"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSearch(patientDecl, tt.q, opts())
			if err != nil {
				t.Fatal(err)
			}
			if tt.clauses != nil && !reflect.DeepEqual(s.Clauses, tt.clauses) {
				t.Errorf("clauses\n got %+v\nwant %+v", s.Clauses, tt.clauses)
			}
			if got := s.Applied.Encode(); got != tt.applied {
				t.Errorf("applied = %s, want %s", got, tt.applied)
			}
			if len(s.Ignored) != 0 {
				t.Errorf("ignored = %v", s.Ignored)
			}
			// Applied is canonical: parsing it again gives the same search.
			again, err := ParseSearch(patientDecl, s.Applied, strictOpts())
			if err != nil {
				t.Fatalf("applied does not parse again: %v", err)
			}
			if !reflect.DeepEqual(again, s) {
				t.Errorf("applied parses to a different search\n got %+v\nwant %+v", again, s)
			}
		})
	}
}

func TestParseSearchClauseOrder(t *testing.T) {
	s, err := ParseSearch(patientDecl, query(t, "gender=female&birthdate=ge1990&family=smi"), opts())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range s.Clauses {
		names = append(names, c.Param.Name)
	}
	if got := strings.Join(names, ","); got != "birthdate,family,gender" {
		t.Errorf("clause order = %s", got)
	}
}

func TestParseSearchResultParams(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		decl     *ResourceDecl
		count    int
		sort     []SortKey
		summary  string
		total    bool
		elements []string
		include  []Include
		applied  string
	}{
		{name: "defaults", raw: "", count: 20, sort: []SortKey{{Name: "_id"}}, applied: "_count=20"},
		{name: "_count", raw: "_count=5", count: 5, sort: []SortKey{{Name: "_id"}}, applied: "_count=5"},
		{name: "_count at the maximum", raw: "_count=100", count: 100, sort: []SortKey{{Name: "_id"}}, applied: "_count=100"},
		{name: "_count=1", raw: "_count=1", count: 1, sort: []SortKey{{Name: "_id"}}, applied: "_count=1"},
		{name: "_count=0 is _summary=count", raw: "_count=0&_elements=name", count: 0, sort: []SortKey{{Name: "_id"}},
			summary: "count", total: true, applied: "_summary=count"},
		{name: "_summary=count drops what cannot change a count", raw: "_summary=count&_count=5&_include=Patient:general-practitioner&_elements=name&family=a",
			count: 0, sort: []SortKey{{Name: "_id"}}, summary: "count", total: true, applied: "_summary=count&family=a"},
		{name: "_summary=false is the default", raw: "_summary=false", count: 20, sort: []SortKey{{Name: "_id"}}, applied: "_count=20"},
		{name: "_summary=true", raw: "_summary=true&_count=5", count: 5, sort: []SortKey{{Name: "_id"}}, summary: "true", applied: "_count=5&_summary=true"},
		{name: "_summary=data", raw: "_summary=data", count: 20, sort: []SortKey{{Name: "_id"}}, summary: "data", applied: "_count=20&_summary=data"},
		{name: "_sort with tie-breaker", raw: "_sort=-birthdate,family", count: 20,
			sort: []SortKey{{Name: "birthdate", Desc: true}, {Name: "family"}, {Name: "_id"}}, applied: "_count=20&_sort=-birthdate%2Cfamily"},
		{name: "_sort with spaces", raw: "_sort=family,%20-birthdate", count: 20,
			sort: []SortKey{{Name: "family"}, {Name: "birthdate", Desc: true}, {Name: "_id"}}, applied: "_count=20&_sort=family%2C-birthdate"},
		{name: "_sort=-_id has no extra key", raw: "_sort=-_id", count: 20,
			sort: []SortKey{{Name: "_id", Desc: true}}, applied: "_count=20&_sort=-_id"},
		{name: "_sort=_id,family keeps the order given", raw: "_sort=_id,family", count: 20,
			sort: []SortKey{{Name: "_id"}, {Name: "family"}}, applied: "_count=20&_sort=_id%2Cfamily"},
		{name: "_sort=_id on a decl without sorts", raw: "_sort=_id", decl: locationDecl, count: fallbackDefaultCount,
			sort: []SortKey{{Name: "_id"}}, applied: "_count=20&_sort=_id"},
		{name: "_total=accurate", raw: "_total=accurate", count: 20, sort: []SortKey{{Name: "_id"}}, total: true, applied: "_count=20&_total=accurate"},
		{name: "_total=estimate is none", raw: "_total=estimate", count: 20, sort: []SortKey{{Name: "_id"}}, applied: "_count=20"},
		{name: "_total=none", raw: "_total=none", count: 20, sort: []SortKey{{Name: "_id"}}, applied: "_count=20"},
		{name: "_elements", raw: "_elements=name,birthDate,%20gender,name&_elements=identifier", count: 20, sort: []SortKey{{Name: "_id"}},
			elements: []string{"name", "birthDate", "gender", "identifier"}, applied: "_count=20&_elements=name%2CbirthDate%2Cgender%2Cidentifier"},
		{name: "_include", raw: "_include=Patient:general-practitioner", count: 20, sort: []SortKey{{Name: "_id"}},
			include: patientDecl.Includes, applied: "_count=20&_include=Patient%3Ageneral-practitioner"},
		{name: "_include with target, repeated", raw: "_include=Patient:general-practitioner:Practitioner&_include=Patient:general-practitioner", count: 20,
			sort: []SortKey{{Name: "_id"}}, include: patientDecl.Includes, applied: "_count=20&_include=Patient%3Ageneral-practitioner"},
		{name: "PractitionerRole include", raw: "_include=PractitionerRole:practitioner&practitioner=Practitioner/1", decl: roleDecl, count: 10,
			sort: []SortKey{{Name: "_id"}}, include: roleDecl.Includes, applied: "_count=10&_include=PractitionerRole%3Apractitioner&practitioner=Practitioner%2F1"},
		{name: "fallback counts", raw: "", decl: locationDecl, count: fallbackDefaultCount, sort: []SortKey{{Name: "_id"}}, applied: "_count=20"},
		{name: "fallback maximum", raw: "_count=100", decl: locationDecl, count: fallbackMaxCount, sort: []SortKey{{Name: "_id"}}, applied: "_count=100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decl := tt.decl
			if decl == nil {
				decl = patientDecl
			}
			s, err := ParseSearch(decl, query(t, tt.raw), opts())
			if err != nil {
				t.Fatal(err)
			}
			if s.Type != decl.Type || s.Count != tt.count || s.Summary != tt.summary || s.Total != tt.total {
				t.Errorf("type %s count %d summary %q total %v, want %s %d %q %v", s.Type, s.Count, s.Summary, s.Total, decl.Type, tt.count, tt.summary, tt.total)
			}
			if !reflect.DeepEqual(s.Sort, tt.sort) {
				t.Errorf("sort = %+v, want %+v", s.Sort, tt.sort)
			}
			if !reflect.DeepEqual(s.Elements, tt.elements) {
				t.Errorf("elements = %v, want %v", s.Elements, tt.elements)
			}
			if !reflect.DeepEqual(s.Include, tt.include) {
				t.Errorf("include = %v, want %v", s.Include, tt.include)
			}
			if got := s.Applied.Encode(); got != tt.applied {
				t.Errorf("applied = %s, want %s", got, tt.applied)
			}
			again, err := ParseSearch(decl, s.Applied, strictOpts())
			if err != nil {
				t.Fatalf("applied does not parse again: %v", err)
			}
			if !reflect.DeepEqual(again, s) {
				t.Errorf("applied parses to a different search\n got %+v\nwant %+v", again, s)
			}
		})
	}
}

func TestParseSearchErrors(t *testing.T) {
	many := strings.TrimSuffix(strings.Repeat("a,", maxValues+1), ",")
	tooMany := strings.TrimSuffix(strings.Repeat("family=a&", maxClauses+1), "&")
	tests := []struct {
		raw       string
		status    int
		code      string
		fragments []string
	}{
		// The issue's bad input.
		{"birthdate=1990-13-45", 400, IssueInvalid, []string{"birthdate", "1990-13-45", "not a valid date"}},
		{"_count=-1", 400, IssueInvalid, []string{"_count=-1", "whole number"}},
		{"_count=abc", 400, IssueInvalid, []string{"_count=abc"}},
		{"_count=100000", 400, IssueTooCostly, []string{"maximum page size of 100"}},
		{"family:foo=x", 400, IssueInvalid, []string{"family:foo", ":foo is not a modifier"}},
		// Values.
		{"family=", 400, IssueInvalid, []string{"family", "empty value"}},
		{"family=%20%20", 400, IssueInvalid, []string{"empty value"}},
		{"family=a,,b", 400, IssueInvalid, []string{"empty value in"}},
		{"family=a,", 400, IssueInvalid, []string{"empty value in"}},
		{"family=a,%20", 400, IssueInvalid, []string{"blank"}},
		{"family=" + many, 400, IssueTooCostly, []string{"at most 100"}},
		{tooMany, 400, IssueTooCostly, []string{"more than 32"}},
		{"family=" + strings.Repeat("x", maxValueLen+1), 400, IssueTooCostly, []string{"at most 1024"}},
		{"family=%FF", 400, IssueInvalid, []string{"UTF-8"}},
		{"family=a%00b", 400, IssueInvalid, []string{"NUL"}},
		{"birthdate=1990-02-30", 400, IssueInvalid, []string{"no such day"}},
		{"birthdate=ge1990,xx", 400, IssueInvalid, []string{`"xx"`}},
		{"identifier=|", 400, IssueInvalid, []string{"neither a system nor a code"}},
		{"identifier=a|b|c", 400, IssueInvalid, []string{"more than one '|'"}},
		{"_id=abc$", 400, IssueInvalid, []string{"not a valid resource id"}},
		{"_id=" + strings.Repeat("1", 65), 400, IssueInvalid, []string{"not a valid resource id"}},
		{"_id=a|b", 400, IssueInvalid, []string{"not a valid resource id"}},
		{"general-practitioner=Patient/1", 400, IssueInvalid, []string{"Practitioner, PractitionerRole"}},
		{"general-practitioner=http://example.org/fhir/Practitioner/1", 400, IssueNotSupported, []string{"absolute references", "Practitioner/123"}},
		{"general-practitioner=urn:uuid:1", 400, IssueNotSupported, []string{"absolute references"}},
		{"general-practitioner=Practitioner/1/_history/2", 400, IssueNotSupported, []string{"version-specific"}},
		{"general-practitioner=Practitioner/", 400, IssueInvalid, []string{"invalid resource id"}},
		{"general-practitioner=a/b/c", 400, IssueInvalid, []string{"not a reference"}},
		{"general-practitioner=1%202", 400, IssueInvalid, []string{"not a valid resource id"}},
		{"general-practitioner:Patient=1", 400, IssueInvalid, []string{"Patient is not a resource type"}},
		{"general-practitioner:Practitioner=PractitionerRole/1", 400, IssueInvalid, []string{"contradicts"}},
		{"general-practitioner.identifier=x|1", 400, IssueNotSupported, []string{"chained search"}},
		// Modifiers.
		{"family:missing=true", 400, IssueNotSupported, []string{":missing modifier is not supported", ":exact and :contains"}},
		{"family:=x", 400, IssueInvalid, []string{"empty modifier"}},
		{"family:not=x", 400, IssueInvalid, []string{":not is not a modifier of string"}},
		{"gender:text=x", 400, IssueNotSupported, []string{":text modifier"}},
		{"gender:exact=x", 400, IssueInvalid, []string{":exact is not a modifier of token"}},
		{"birthdate:exact=1990", 400, IssueInvalid, []string{"takes no modifiers"}},
		{"birthdate:missing=true", 400, IssueNotSupported, []string{":missing"}},
		{"general-practitioner:identifier=x", 400, IssueNotSupported, []string{":identifier"}},
		{"general-practitioner:foo=x", 400, IssueInvalid, []string{":foo"}},
		// Result parameters.
		{"_count=", 400, IssueInvalid, []string{"_count", "empty"}},
		{"_count=1.5", 400, IssueInvalid, []string{"whole number"}},
		{"_count=%2B5", 400, IssueInvalid, []string{"whole number"}},
		{"_count=101", 400, IssueTooCostly, []string{"at most 100"}},
		{"_count=99999999999999999999999", 400, IssueTooCostly, []string{"maximum"}},
		{"_count=5&_count=6", 400, IssueInvalid, []string{"give it once"}},
		{"_count:exact=5", 400, IssueInvalid, []string{"takes no modifier"}},
		{"_sort=gender", 400, IssueInvalid, []string{`"gender"`, "family, birthdate, _id"}},
		{"_sort=family,family", 400, IssueInvalid, []string{"listed twice"}},
		{"_sort=-", 400, IssueInvalid, []string{"empty sort key"}},
		{"_sort=family,", 400, IssueInvalid, []string{"empty sort key"}},
		{"_sort:asc=family", 400, IssueInvalid, []string{"takes no modifier"}},
		{"_summary=text", 400, IssueNotSupported, []string{"_summary=text is not supported"}},
		{"_summary=bogus", 400, IssueInvalid, []string{"true, data, count or false"}},
		{"_summary=true&_elements=name", 400, IssueInvalid, []string{"give one of them"}},
		{"_total=maybe", 400, IssueInvalid, []string{"accurate, estimate or none"}},
		{"_elements=Name", 400, IssueInvalid, []string{`"Name"`}},
		{"_elements=name.given", 400, IssueInvalid, []string{"top-level"}},
		{"_elements=name,", 400, IssueInvalid, []string{"top-level"}},
		{"_include=*", 400, IssueNotSupported, []string{"wildcard", "Patient:general-practitioner"}},
		{"_include=Patient:*", 400, IssueNotSupported, []string{"wildcard"}},
		{"_include=Patient:organization", 400, IssueInvalid, []string{"not supported", "Patient:general-practitioner"}},
		{"_include=Patient:general-practitioner:PractitionerRole", 400, IssueInvalid, []string{"not supported"}},
		{"_include=Practitioner:general-practitioner", 400, IssueInvalid, []string{"not supported"}},
		{"_include:iterate=Patient:general-practitioner", 400, IssueNotSupported, []string{"iterative"}},
		{"_page_token=&family=a", 400, IssueInvalid, []string{"_page_token is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.raw[:min(len(tt.raw), 60)], func(t *testing.T) {
			// Bad values are refused in lenient mode too.
			for _, o := range []ParseOptions{opts(), strictOpts()} {
				s, err := ParseSearch(patientDecl, query(t, tt.raw), o)
				if err == nil {
					t.Fatalf("strict=%v: no error; search %+v", o.Strict, s)
				}
				wantError(t, err, tt.status, tt.code, tt.fragments...)
			}
		})
	}
}

func TestParseSearchNoInclude(t *testing.T) {
	_, err := ParseSearch(locationDecl, query(t, "_include=Location:organization"), opts())
	wantError(t, err, 400, IssueInvalid, "Location supports no _include")
}

func TestParseSearchUnknown(t *testing.T) {
	raw := "famly=smi&family=jones&foo:exact=1&_has:Encounter:patient:status=x&_pretty=true&Family=x"
	t.Run("lenient", func(t *testing.T) {
		s, err := ParseSearch(patientDecl, query(t, raw), opts())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Family", "_has:Encounter:patient:status", "_pretty", "famly", "foo:exact"}
		if !reflect.DeepEqual(s.Ignored, want) {
			t.Errorf("ignored = %v, want %v", s.Ignored, want)
		}
		if got := s.Applied.Encode(); got != "_count=20&family=jones" {
			t.Errorf("applied = %s", got)
		}
		if len(s.Clauses) != 1 || s.Clauses[0].Param.Name != "family" {
			t.Errorf("clauses = %+v", s.Clauses)
		}
	})
	t.Run("strict", func(t *testing.T) {
		_, err := ParseSearch(patientDecl, query(t, raw), strictOpts())
		wantError(t, err, 400, IssueInvalid, "unknown search parameter(s) for Patient: Family, _has:Encounter:patient:status, _pretty, famly, foo:exact",
			"Patient supports _id, identifier, family")
	})
	t.Run("strict without unknowns", func(t *testing.T) {
		if _, err := ParseSearch(patientDecl, query(t, "family=a&_format=json&_page_token=x"), strictOpts()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a bad value of a known parameter wins over leniency", func(t *testing.T) {
		_, err := ParseSearch(patientDecl, query(t, "famly=x&birthdate=1990-13-45"), opts())
		wantError(t, err, 400, IssueInvalid, "1990-13-45")
	})
	t.Run("empty values of unknown parameters are only ignored", func(t *testing.T) {
		s, err := ParseSearch(patientDecl, query(t, "foo="), opts())
		if err != nil || !reflect.DeepEqual(s.Ignored, []string{"foo"}) {
			t.Fatalf("s %+v err %v", s, err)
		}
	})
}

func TestParseSearchEmptyValueList(t *testing.T) {
	// A key with no values at all (only possible programmatically) is absent.
	s, err := ParseSearch(patientDecl, url.Values{"family": nil}, strictOpts())
	if err != nil || len(s.Clauses) != 0 {
		t.Fatalf("s %+v err %v", s, err)
	}
}

func TestParseSearchDoesNotModifyQuery(t *testing.T) {
	q := query(t, "family=a&_count=5&general-practitioner:Practitioner=1")
	before := q.Encode()
	if _, err := ParseSearch(patientDecl, q, opts()); err != nil {
		t.Fatal(err)
	}
	if q.Encode() != before {
		t.Errorf("query modified: %s", q.Encode())
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `a,b`, `a|b`, `a$b`, `a\b`, `\`, `\\,`, `,,|$\`, "O'Brien"} {
		if got := unescape(escape(s)); got != s {
			t.Errorf("unescape(escape(%q)) = %q", s, got)
		}
		if parts := splitUnescaped(escape(s), ','); len(parts) != 1 {
			t.Errorf("escape(%q) = %q splits into %q", s, escape(s), parts)
		}
	}
}
