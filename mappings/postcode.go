package mappings

import (
	"strings"

	"fhirlink/fhir"
)

// Australian practice systems store addresses without a state: it is
// derived from the postcode, by Australia Post's ranges (street delivery,
// PO boxes and large-volume receivers alike; external territories that use
// a state's postcodes, such as Norfolk Island 2899, follow that state).

type auState struct {
	Code   string   // as AU Base's address state value set writes it
	Name   string   // the full name, which address searches also match
	Ranges [][2]int // inclusive postcode ranges
}

var auStates = []auState{
	{"NSW", "New South Wales", [][2]int{{1000, 1999}, {2000, 2599}, {2619, 2899}, {2921, 2999}}},
	{"ACT", "Australian Capital Territory", [][2]int{{200, 299}, {2600, 2618}, {2900, 2920}}},
	{"VIC", "Victoria", [][2]int{{3000, 3999}, {8000, 8999}}},
	{"QLD", "Queensland", [][2]int{{4000, 4999}, {9000, 9999}}},
	{"SA", "South Australia", [][2]int{{5000, 5999}}},
	{"WA", "Western Australia", [][2]int{{6000, 6999}}},
	{"TAS", "Tasmania", [][2]int{{7000, 7999}}},
	{"NT", "Northern Territory", [][2]int{{800, 999}}},
}

// StateOfPostcode returns the state or territory (NSW, VIC, ...) of a
// four-digit Australian postcode, or "" when pc is not one. Surrounding
// spaces are ignored and a three-digit form gets its leading zero back.
func StateOfPostcode(pc string) string {
	pc = strings.TrimSpace(pc)
	if len(pc) == 3 {
		pc = "0" + pc
	}
	if len(pc) != 4 {
		return ""
	}
	n := 0
	for i := 0; i < 4; i++ {
		if pc[i] < '0' || pc[i] > '9' {
			return ""
		}
		n = n*10 + int(pc[i]-'0')
	}
	for _, s := range auStates {
		for _, r := range s.Ranges {
			if n >= r[0] && n <= r[1] {
				return s.Code
			}
		}
	}
	return ""
}

// statePostcodes is the predicate "the four-character postcode column expr
// lies in a range of one of states". The ranges are constants of this
// file, so they are written into the SQL rather than bound.
func statePostcodes(expr string, states []auState) string {
	var parts []string
	for _, s := range states {
		for _, r := range s.Ranges {
			parts = append(parts, expr+" BETWEEN '"+pad4(r[0])+"' AND '"+pad4(r[1])+"'")
		}
	}
	if len(parts) == 0 {
		return SQLFalse
	}
	return or(parts)
}

func pad4(n int) string {
	b := []byte{'0', '0', '0', '0'}
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}

// State is a string target for the state of an address whose postcode is
// in expr (a char(4) column): the value is compared, per the modifier, with
// each state's code and full name, and the states that match become
// postcode ranges.
func State(postcodeExpr string) Target {
	return func(b *Builder, modifier string, v *StringValue) string {
		want := v.Text
		var hit []auState
		for _, s := range auStates {
			for _, name := range []string{s.Code, s.Name} {
				if stringMatches(modifier, name, want) {
					hit = append(hit, s)
					break
				}
			}
		}
		return statePostcodes(postcodeExpr, hit)
	}
}

// stringMatches applies FHIR string matching in Go, for values the mapping
// knows (state names): prefix or substring ignoring case, or exact.
func stringMatches(modifier, have, want string) bool {
	switch modifier {
	case fhir.ModifierExact:
		return have == want
	case fhir.ModifierContains:
		return strings.Contains(strings.ToLower(have), strings.ToLower(want))
	}
	return strings.HasPrefix(strings.ToLower(have), strings.ToLower(want))
}
