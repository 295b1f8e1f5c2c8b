package fhir

import (
	"net/url"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	utc := time.UTC
	plus530 := time.FixedZone("", 5*3600+30*60)
	minus3 := time.FixedZone("", -3*3600)
	tests := []struct {
		value  string
		loc    *time.Location
		prefix Prefix
		lo, hi time.Time
	}{
		// Precisions, read in the practice's zone.
		{"1990", sydney, PrefixEq, time.Date(1990, 1, 1, 0, 0, 0, 0, sydney), time.Date(1991, 1, 1, 0, 0, 0, 0, sydney)},
		{"2024-05", sydney, PrefixEq, time.Date(2024, 5, 1, 0, 0, 0, 0, sydney), time.Date(2024, 6, 1, 0, 0, 0, 0, sydney)},
		{"2024-12", sydney, PrefixEq, time.Date(2024, 12, 1, 0, 0, 0, 0, sydney), time.Date(2025, 1, 1, 0, 0, 0, 0, sydney)},
		{"2024-05-01", sydney, PrefixEq, time.Date(2024, 5, 1, 0, 0, 0, 0, sydney), time.Date(2024, 5, 2, 0, 0, 0, 0, sydney)},
		{"2024-02-29", sydney, PrefixEq, time.Date(2024, 2, 29, 0, 0, 0, 0, sydney), time.Date(2024, 3, 1, 0, 0, 0, 0, sydney)},
		{"2024-12-31", sydney, PrefixEq, time.Date(2024, 12, 31, 0, 0, 0, 0, sydney), time.Date(2025, 1, 1, 0, 0, 0, 0, sydney)},
		{"2024-05-01T10:00", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 0, 0, sydney), time.Date(2024, 5, 1, 10, 1, 0, 0, sydney)},
		{"2024-05-01T10:00:05", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 5, 0, sydney), time.Date(2024, 5, 1, 10, 0, 6, 0, sydney)},
		{"2024-05-01T10:00:05.5", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 5, 5e8, sydney), time.Date(2024, 5, 1, 10, 0, 5, 6e8, sydney)},
		{"2024-05-01T10:00:05.25", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 5, 25e7, sydney), time.Date(2024, 5, 1, 10, 0, 5, 26e7, sydney)},
		{"2024-05-01T10:00:05.123456789", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 5, 123456789, sydney), time.Date(2024, 5, 1, 10, 0, 5, 123456790, sydney)},
		// Explicit zones win over the practice's.
		{"2024-05-01T10:00:00Z", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 0, 0, utc), time.Date(2024, 5, 1, 10, 0, 1, 0, utc)},
		{"2024-05-01T10:00:00+05:30", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 0, 0, plus530), time.Date(2024, 5, 1, 10, 0, 1, 0, plus530)},
		{"2024-05-01T10:00-03:00", sydney, PrefixEq, time.Date(2024, 5, 1, 10, 0, 0, 0, minus3), time.Date(2024, 5, 1, 10, 1, 0, 0, minus3)},
		// Without a Location, UTC.
		{"2024-05-01", nil, PrefixEq, time.Date(2024, 5, 1, 0, 0, 0, 0, utc), time.Date(2024, 5, 2, 0, 0, 0, 0, utc)},
		// Prefixes keep the precision range; the mapping applies them.
		{"eq2024", sydney, PrefixEq, time.Date(2024, 1, 1, 0, 0, 0, 0, sydney), time.Date(2025, 1, 1, 0, 0, 0, 0, sydney)},
		{"ne2024", sydney, PrefixNe, time.Date(2024, 1, 1, 0, 0, 0, 0, sydney), time.Date(2025, 1, 1, 0, 0, 0, 0, sydney)},
		{"gt2024-05", sydney, PrefixGt, time.Date(2024, 5, 1, 0, 0, 0, 0, sydney), time.Date(2024, 6, 1, 0, 0, 0, 0, sydney)},
		{"lt2024-05-01", sydney, PrefixLt, time.Date(2024, 5, 1, 0, 0, 0, 0, sydney), time.Date(2024, 5, 2, 0, 0, 0, 0, sydney)},
		{"ge2024-05-01T10:00", sydney, PrefixGe, time.Date(2024, 5, 1, 10, 0, 0, 0, sydney), time.Date(2024, 5, 1, 10, 1, 0, 0, sydney)},
		{"le2024-05-01T10:00:00Z", sydney, PrefixLe, time.Date(2024, 5, 1, 10, 0, 0, 0, utc), time.Date(2024, 5, 1, 10, 0, 1, 0, utc)},
		{"sa2024", sydney, PrefixSa, time.Date(2024, 1, 1, 0, 0, 0, 0, sydney), time.Date(2025, 1, 1, 0, 0, 0, 0, sydney)},
		{"eb2024-05", sydney, PrefixEb, time.Date(2024, 5, 1, 0, 0, 0, 0, sydney), time.Date(2024, 6, 1, 0, 0, 0, 0, sydney)},
		// ap: now (fixedNow, 2024-06-01Z) is inside 2024, so no widening.
		{"ap2024", sydney, PrefixAp, time.Date(2024, 1, 1, 0, 0, 0, 0, sydney), time.Date(2025, 1, 1, 0, 0, 0, 0, sydney)},
		// ap: a tenth of the distance to now on each side. 2014-06-01Z is
		// 3653 days before now; the day ends 3652 days before it.
		{"ap2014-06-01", utc, PrefixAp,
			time.Date(2014, 6, 1, 0, 0, 0, 0, utc).Add(-3652 * 24 * time.Hour / 10),
			time.Date(2014, 6, 2, 0, 0, 0, 0, utc).Add(3652 * 24 * time.Hour / 10)},
		// ap in the future: measured from the start of the range.
		{"ap2034-06-01T00:00:00Z", utc, PrefixAp,
			time.Date(2034, 6, 1, 0, 0, 0, 0, utc).Add(-3652 * 24 * time.Hour / 10),
			time.Date(2034, 6, 1, 0, 0, 1, 0, utc).Add(3652 * 24 * time.Hour / 10)},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			v, err := parseDate("date", tt.value, tt.loc, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if v.Prefix != tt.prefix {
				t.Errorf("prefix = %s, want %s", v.Prefix, tt.prefix)
			}
			if !v.Lo.Equal(tt.lo) || !v.Hi.Equal(tt.hi) {
				t.Errorf("range = [%s, %s), want [%s, %s)", v.Lo, v.Hi, tt.lo, tt.hi)
			}
		})
	}
}

// TestParseDateDST pins the instants of local days across Sydney's DST
// changes in 2024 (ends 7 April 03:00 AEDT, starts 6 October 02:00 AEST).
func TestParseDateDST(t *testing.T) {
	tests := []struct {
		value  string
		lo, hi string // UTC instants
		hours  int
	}{
		{"2024-04-06", "2024-04-05T13:00:00Z", "2024-04-06T13:00:00Z", 24},
		{"2024-04-07", "2024-04-06T13:00:00Z", "2024-04-07T14:00:00Z", 25},
		{"2024-04-08", "2024-04-07T14:00:00Z", "2024-04-08T14:00:00Z", 24},
		{"2024-10-06", "2024-10-05T14:00:00Z", "2024-10-06T13:00:00Z", 23},
		{"2024-04", "2024-03-31T13:00:00Z", "2024-04-30T14:00:00Z", 30*24 + 1},
		{"2024", "2023-12-31T13:00:00Z", "2024-12-31T13:00:00Z", 366 * 24},
		// A time without a zone takes the offset in force that day.
		{"2024-01-15T09:00:00", "2024-01-14T22:00:00Z", "2024-01-14T22:00:01Z", 0},
		{"2024-07-15T09:00:00", "2024-07-14T23:00:00Z", "2024-07-14T23:00:01Z", 0},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			s, err := ParseSearch(patientDecl, url.Values{"birthdate": {tt.value}}, opts())
			if err != nil {
				t.Fatal(err)
			}
			v := s.Clauses[0].Values[0]
			if got := v.Lo.UTC().Format(time.RFC3339); got != tt.lo {
				t.Errorf("lo = %s, want %s", got, tt.lo)
			}
			if got := v.Hi.UTC().Format(time.RFC3339); got != tt.hi {
				t.Errorf("hi = %s, want %s", got, tt.hi)
			}
			if tt.hours > 0 && v.Hi.Sub(v.Lo) != time.Duration(tt.hours)*time.Hour {
				t.Errorf("length = %s, want %dh", v.Hi.Sub(v.Lo), tt.hours)
			}
			if v.Lo.Location() != sydney {
				t.Errorf("lo is in %s, want the practice's zone", v.Lo.Location())
			}
		})
	}
}

func TestParseDateZoneInQuery(t *testing.T) {
	// An unescaped + in a query decodes to a space.
	s, err := ParseSearch(patientDecl, query(t, "birthdate=ge2024-05-01T10:00:00+10:00"), opts())
	if err != nil {
		t.Fatal(err)
	}
	v := s.Clauses[0].Values[0]
	if want := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC); !v.Lo.Equal(want) || v.Prefix != PrefixGe {
		t.Errorf("value = %+v, want ge %s", v, want)
	}
	if got := s.Applied.Get("birthdate"); got != "ge2024-05-01T10:00:00+10:00" {
		t.Errorf("applied = %q", got)
	}
}

func TestParseDateInvalid(t *testing.T) {
	for _, v := range []string{
		"1990-13-45", "1990-13", "1990-00", "1990-01-00", "1990-02-30", "2023-02-29", "1990-04-31",
		"1990-1-1", "90", "19900", "0000", "1990-01-01T10", "1990-01-01T24:00", "1990-01-01T10:60",
		"1990-01-01T10:00:60", "1990-01-01Z", "1990-01-01+10:00", "xx1990", "EQ1990", "eq", "ge",
		"1990-01-01T10:00:00.", "1990-01-01T10:00:00.1234567890", "1990-01-01T10:00+15:00",
		"1990-01-01T10:00+10:60", "1990-01-01T10:00:00+1000", "1990-01-01 10:00", "today", "1990/01/01",
		"-1990", "1990-01-01T10:00:00ZZ",
	} {
		t.Run(v, func(t *testing.T) {
			_, err := parseDate("birthdate", v, sydney, fixedNow)
			if err == nil {
				t.Fatal("no error")
			}
			wantError(t, err, 400, IssueInvalid, "birthdate", "YYYY-MM-DD")
		})
	}
}

func TestZonedValuesAreExpressedInTheSiteZone(t *testing.T) {
	sydney, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseDate("date", "2024-07-01T00:00:00Z", sydney, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Midnight UTC is 10:00 in Sydney in July: a Bp column holding local
	// wall-clock time must be compared with 10:00, not 00:00.
	if got := v.Lo.Format("2006-01-02T15:04:05"); got != "2024-07-01T10:00:00" || v.Lo.Location() != sydney {
		t.Fatalf("Lo = %s in %v, want 2024-07-01T10:00:00 in Australia/Sydney", got, v.Lo.Location())
	}
}
