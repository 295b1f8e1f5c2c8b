package mappings

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fhirlink/fhir"
)

// Terminology, profiles and helpers the clinical resources of every PMS
// mapping share: the AU Core clinical profiles, the FHIR code systems of
// statuses and categories, LOINC and UCUM, partial dates and measured
// values.

// Code systems of clinical resources.
const (
	CodeSystemLOINC                     = "http://loinc.org"
	CodeSystemUCUM                      = "http://unitsofmeasure.org"
	CodeSystemObservationCategory       = "http://terminology.hl7.org/CodeSystem/observation-category"
	CodeSystemObservationInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	CodeSystemConditionClinical         = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	CodeSystemConditionVerification     = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	CodeSystemConditionCategory         = "http://terminology.hl7.org/CodeSystem/condition-category"
	CodeSystemAllergyClinical           = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	CodeSystemAllergyVerification       = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
	CodeSystemActCode                   = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	CodeSystemMedicationStatementStatus = "http://hl7.org/fhir/CodeSystem/medication-statement-status"
	CodeSystemMedicationRequestStatus   = "http://hl7.org/fhir/CodeSystem/medicationrequest-status"
	CodeSystemMedicationRequestIntent   = "http://hl7.org/fhir/CodeSystem/medicationrequest-intent"
	CodeSystemObservationStatus         = "http://hl7.org/fhir/observation-status"
	CodeSystemEncounterStatus           = "http://hl7.org/fhir/encounter-status"
	CodeSystemImmunizationStatus        = "http://hl7.org/fhir/event-status"
	CodeSystemParticipationType         = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
)

// AU Core 2.0 clinical profiles, and FHIR's own where AU Core has none.
const (
	ProfileEncounter           = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-encounter"
	ProfileAllergyIntolerance  = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-allergyintolerance"
	ProfileCondition           = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-condition"
	ProfileMedicationStatement = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-medicationstatement"
	ProfileMedicationRequest   = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-medicationrequest"
	ProfileImmunization        = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-immunization"
	ProfileBloodPressure       = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-bloodpressure"
	ProfileHeartRate           = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-heartrate"
	ProfileBodyTemperature     = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-bodytemp"
	ProfileBodyHeight          = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-bodyheight"
	ProfileBodyWeight          = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-bodyweight"
	ProfileBMI                 = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-bmi"
	ProfileWaistCircumference  = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-waistcircum"
	ProfileVitalSigns          = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-vitalsigns"
	ProfileHeadCircumference   = "http://hl7.org/fhir/StructureDefinition/headcircum"
	ProfileRespirationRate     = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-resprate"
	ProfileOxygenSaturation    = "http://hl7.org/fhir/StructureDefinition/oxygensat"
	ProfilePathologyResult     = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-diagnosticresult-path"
	ProfileSmokingStatus       = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-smokingstatus"
)

// Note writes the note of a resource: one annotation of text, unless it
// is blank.
func (w *JSON) Note(text string) {
	w.Array("note")
	w.Object("")
	w.String("text", strings.TrimSpace(text))
	w.End()
	w.End()
}

// PartialDate is a FHIR date of the precision a PMS recorded: YYYY when
// only the year is known, YYYY-MM with the month, YYYY-MM-DD with the day
// too; "" without a plausible year or with an impossible month or day.
func PartialDate(year, month, day int) string {
	if year < 1 || year > 9999 {
		return ""
	}
	y := fmt.Sprintf("%04d", year)
	if month < 1 || month > 12 {
		return y
	}
	ym := y + "-" + fmt.Sprintf("%02d", month)
	if day < 1 || day > daysIn(year, month) {
		return ym
	}
	return ym + "-" + fmt.Sprintf("%02d", day)
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// AddSeconds is the SQL of a datetime column plus an integer number of
// seconds (a PMS's seconds-since-midnight time of day added to its date),
// as the engine writes it. Both arguments are SQL expressions of the
// mapping's own, never request values. On SQLite the result is text in the
// form the synthetic database stores datetimes in ("YYYY-MM-DD HH:MM:SS").
func AddSeconds(d Dialect, date, seconds string) string { return d.AddSeconds(date, seconds) }

// CodeColumn matches a token against a code held in a text column: code
// alone, or system|code in the given system (another system matches
// nothing; system| matches any code present).
func CodeColumn(system, expr string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		if v.System != nil && *v.System != system {
			return SQLFalse, nil
		}
		code := strings.TrimSpace(v.Code)
		if code == "" {
			if v.System != nil {
				return b.Dialect.Trim(expr) + " <> ''", nil
			}
			return SQLFalse, nil
		}
		return b.Dialect.Trim(expr) + " = " + b.Param(ParamVarChar, code), nil
	})
}

// PrefixedID matches the ids of a resource made from several tables: each
// id is a prefix and an integer key ("lab-123"), and keys maps each prefix
// to the predicate for the key's bound placeholder. An id without a known
// prefix or a canonical integer matches nothing.
func PrefixedID(keys map[string]func(param string) string) Matcher {
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if err := tokenModifier(modifier); err != nil {
			return "", err
		}
		i := strings.LastIndexByte(v.Code, '-')
		if i < 0 {
			return SQLFalse, nil
		}
		pred, ok := keys[v.Code[:i]]
		if !ok {
			return SQLFalse, nil
		}
		id, ok := canonicalID(v.Code[i+1:])
		if !ok {
			return SQLFalse, nil
		}
		return pred(b.Param(ParamInt, id)), nil
	})
}

// Quantity writes the Quantity member key: a measured value with a UCUM
// unit, written with the given number of decimals (-1: as few as needed);
// comparator is "", "<", "<=", ">=" or ">"; unit is the printed unit, code
// its UCUM code ("" when the unit has none, which leaves the quantity
// without system and code).
func (w *JSON) Quantity(key string, value float64, decimals int, comparator, unit, code string) {
	w.Object(key)
	w.Float("value", value, decimals)
	w.String("comparator", comparator)
	w.String("unit", unit)
	if code != "" {
		w.String("system", CodeSystemUCUM)
		w.String("code", code)
	}
	w.End()
}

// Decimal reads a measured value as recorded ("37.2", " 120 "); ok is false
// for anything else ("<5", ">90", "neg"). decimals is the number of
// decimals written, so that the value keeps its recorded precision.
func Decimal(s string) (value float64, decimals int, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '.' && !(i == 0 && c == '-') {
			return 0, 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, 0, false
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		decimals = len(s) - i - 1
	}
	return v, decimals, true
}

// PartialDateMatcher matches a date recorded as separate year, month and
// day integer columns, any of which may be 0 (unknown): the value is the
// whole year, month or day recorded, and a row without a year never
// matches. The three arguments are the columns' SQL expressions.
func PartialDateMatcher(year, month, day string) Matcher {
	monthKnown := month + " BETWEEN 1 AND 12"
	dayKnown := "(" + monthKnown + " AND " + day + " BETWEEN 1 AND 31)"
	// The first and last days of the value as integers yyyymmdd (31 stands
	// for a month's last day: only the order of the integers matters).
	first := "(" + year + " * 10000 + CASE WHEN " + monthKnown + " THEN " + month + " ELSE 1 END * 100 + CASE WHEN " +
		dayKnown + " THEN " + day + " ELSE 1 END)"
	last := "(" + year + " * 10000 + CASE WHEN " + monthKnown + " THEN " + month + " ELSE 12 END * 100 + CASE WHEN " +
		dayKnown + " THEN " + day + " ELSE 31 END)"
	return MatchFunc(func(b *Builder, modifier string, v fhir.Value) (string, error) {
		if modifier != fhir.ModifierNone {
			return "", badRequest("", "modifier :%s does not apply to a date parameter", modifier)
		}
		if v.Lo.IsZero() || v.Hi.IsZero() || !v.Lo.Before(v.Hi) {
			return "", badRequest("", "the date has no range")
		}
		// The search range [lo, hi) in whole days: a day-long value [d, d+1)
		// starts at or after lo when d >= ceil(lo), ends after lo when d >=
		// floor(lo), ends by hi when d <= floor(hi)-1 and starts before hi
		// when d < ceil(hi).
		lo, hi := wall(v.Lo), wall(v.Hi)
		floor := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
		ceil := func(t time.Time) time.Time {
			if f := floor(t); !f.Equal(t) {
				return f.AddDate(0, 0, 1)
			}
			return t
		}
		key := func(t time.Time) func() string {
			return func() string {
				return b.Param(ParamInt, strconv.Itoa(t.Year()*10000+int(t.Month())*100+t.Day()))
			}
		}
		Lc, Lf, H1, Hc := key(ceil(lo)), key(floor(lo)), key(floor(hi).AddDate(0, 0, -1)), key(ceil(hi))
		var pred string
		switch v.Prefix {
		case fhir.PrefixEq, "":
			pred = first + " >= " + Lc() + " AND " + last + " <= " + H1()
		case fhir.PrefixNe:
			pred = "(" + first + " < " + Lc() + " OR " + last + " > " + H1() + ")"
		case fhir.PrefixGt:
			pred = last + " > " + H1()
		case fhir.PrefixLt:
			pred = first + " < " + Lc()
		case fhir.PrefixGe:
			l, h := Lc(), H1()
			pred = "(" + last + " > " + h + " OR (" + first + " >= " + l + " AND " + last + " <= " + h + "))"
		case fhir.PrefixLe:
			l, h := Lc(), H1()
			pred = "(" + first + " < " + l + " OR (" + first + " >= " + l + " AND " + last + " <= " + h + "))"
		case fhir.PrefixSa:
			pred = first + " >= " + Hc()
		case fhir.PrefixEb:
			pred = last + " < " + Lf()
		case fhir.PrefixAp:
			pred = first + " < " + Hc() + " AND " + last + " >= " + Lf()
		default:
			return "", badRequest("", "unknown date prefix %q", v.Prefix)
		}
		return "(" + year + " > 0 AND " + pred + ")", nil
	})
}
