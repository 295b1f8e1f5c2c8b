package aucore

import (
	"strings"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// VitalSign is what a PMS's vital sign type becomes: its LOINC code, the
// AU Core (or FHIR) profile and the UCUM unit of its value. Decimals is
// the number of decimals written (-1: as recorded); Text the code's text
// in place of the row's name; Also more LOINC codings of the same
// observation. A Panel is the blood pressure: systolic and diastolic
// components from value and value2.
type VitalSign struct {
	LOINC, Display, Profile string
	Unit, UCUM              string
	Decimals                int
	Text                    string
	Panel                   bool
	Also                    []mappings.Coding
}

// ObservationCodes are a PMS's code values for Observation.
type ObservationCodes struct {
	// Vitals are the vital signs by the row's type value.
	Vitals map[string]VitalSign
	// CategorySQL, CodeSQL and StatusSQL are the category, code (LOINC)
	// and status searches: each code as a predicate on the row.
	CategorySQL, CodeSQL, StatusSQL map[string]string
	// Smoking is the SNOMED CT finding (code, display) of a smoking row's
	// type value.
	Smoking map[string][2]string
}

// The sources of an Observation row (src), for a PMS with more than
// vital signs; each prefixes the row's id ("vs-123"). A row without src is
// a vital sign whose id is its key.
const (
	ObservationVital   = 1
	ObservationLab     = 2
	ObservationSmoking = 3
)

var observationPrefix = map[int]string{ObservationVital: "vs-", ObservationLab: "lab-", ObservationSmoking: "smoking-"}

// ObservationRow is Observation's canonical row: a vital sign or, where
// the PMS has them, a pathology result (loinc, name, value, units, range,
// flag, status, issued, lab) or the patient's smoking status (type). k is
// the unique key where id is not; report_id is not yet carried.
type ObservationRow struct {
	K   mappings.Int `json:"k"`
	Src mappings.Int `json:"src"`
	ID  mappings.Int `json:"id"`
	Subject
	Type      mappings.Text `json:"type"`
	LOINC     mappings.Text `json:"loinc"`
	Name      mappings.Text `json:"name"`
	Value     mappings.Text `json:"value"`
	Value2    mappings.Text `json:"value2"`
	Units     mappings.Text `json:"units"`
	Range     mappings.Text `json:"range"`
	Flag      mappings.Text `json:"flag"`
	Status    mappings.Text `json:"status"`
	Effective mappings.Wall `json:"effective"`
	Issued    mappings.Wall `json:"issued"`
	ReportID  mappings.Int  `json:"report_id"`
	Lab       mappings.Text `json:"lab"`
	Clinician
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// The codes of FHIR's observation category and status value sets: a code
// outside them is a bad request, a code in them that a PMS never records
// matches nothing.
var (
	observationCategories = []string{"social-history", "vital-signs", "imaging", "laboratory", "procedure", "survey", "exam", "therapy", "activity"}
	observationStatuses   = []string{"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
)

// The codes of the smoking status observation (AU Core's).
const (
	SmokingSNOMED = "1747861000168109"
	SmokingLOINC  = "72166-2"
)

// The blood pressure components.
var (
	SystolicCode  = mappings.Coding{System: mappings.CodeSystemLOINC, Code: "8480-6", Display: "Systolic blood pressure"}
	DiastolicCode = mappings.Coding{System: mappings.CodeSystemLOINC, Code: "8462-4", Display: "Diastolic blood pressure"}
)

// labUnits are the UCUM codes of the units pathology reports print (the
// printed unit is kept as Quantity.unit); a unit not listed gets no code.
var labUnits = map[string]string{
	"%": "%", "mmol/L": "mmol/L", "mmol/mol": "mmol/mol", "umol/L": "umol/L", "µmol/L": "umol/L",
	"mL/min/1.73m2": "mL/min/{1.73_m2}", "mg/mmol": "mg/mmol", "mIU/L": "m[IU]/L", "g/L": "g/L",
	"x10^9/L": "10*9/L", "x10^12/L": "10*12/L", "mg/L": "mg/L", "U/L": "U/L", "nmol/L": "nmol/L",
	"pmol/L": "pmol/L", "fL": "fL", "pg": "pg", "mm/h": "mm/h", "s": "s", "ug/L": "ug/L",
}

// labFlags are HL7 v2 abnormal flags, as laboratories send them, and their
// v3 interpretation codes.
var labFlags = map[string]string{
	"L": "Low", "H": "High", "LL": "Critical low", "HH": "Critical high", "A": "Abnormal", "AA": "Critical abnormal", "N": "Normal",
}

// Observation is AU Core's vital signs, pathology results and smoking
// status, as far as a PMS records each. A PMS gives the profiles of what
// it records (Impl.Profiles).
var Observation = &mappings.Def[ObservationCodes]{
	Type: "Observation",
	Profiles: []string{mappings.ProfileBloodPressure, mappings.ProfileHeartRate, mappings.ProfileBodyTemperature,
		mappings.ProfileBodyHeight, mappings.ProfileBodyWeight, mappings.ProfileBMI, mappings.ProfileWaistCircumference,
		mappings.ProfileRespirationRate, mappings.ProfileOxygenSaturation, mappings.ProfileHeadCircumference,
		mappings.ProfilePathologyResult, mappings.ProfileSmokingStatus},
	Columns:  mappings.ColumnsOf[ObservationRow](),
	Optional: []string{"k", "src", "loinc", "name", "units", "range", "flag", "status", "issued", "report_id", "lab"},
	Filters:  []string{"patient_ref"},
	Params: append(append([]mappings.ParamDef[ObservationCodes]{
		lastUpdated[ObservationCodes](),
		// A PMS with several sources gives its own predicate.
		{Name: "_id", Type: fhir.TypeToken, Doc: "The measurement's key in the practice system; where it has several sources vs-{key}, lab-{key} or smoking-{patient id}",
			Match: id("id")},
	}, patientParams[ObservationCodes](true)...),
		mappings.ParamDef[ObservationCodes]{Name: "category", Type: fhir.TypeToken, Doc: "vital-signs, laboratory (pathology results) or social-history (smoking status), as far as the practice system records each",
			MatchCodes: func(_ mappings.Cols, codes ObservationCodes) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemObservationCategory, codes.CategorySQL, observationCategories)
			}},
		mappings.ParamDef[ObservationCodes]{Name: "code", Type: fhir.TypeToken, Doc: "LOINC code: of the vital sign (85354-9, 8480-6 or 8462-4 for blood pressure; 2708-6 or 59408-5 for oxygen saturation), 72166-2 smoking status, or as the laboratory sent it",
			MatchCodes: func(_ mappings.Cols, codes ObservationCodes) mappings.Matcher {
				return mappings.Codes(mappings.CodeSystemLOINC, codes.CodeSQL)
			}},
		mappings.ParamDef[ObservationCodes]{Name: "date", Type: fhir.TypeDate, Doc: "When measured, or when the specimen was collected",
			Match: func(c mappings.Cols) mappings.Matcher { return mappings.DateTime(c.Col("effective")) }},
		mappings.ParamDef[ObservationCodes]{Name: "status", Type: fhir.TypeToken, Doc: "final, or preliminary for an incomplete pathology report",
			MatchCodes: func(_ mappings.Cols, codes ObservationCodes) mappings.Matcher {
				return mappings.StrictCodes(mappings.CodeSystemObservationStatus, codes.StatusSQL, observationStatuses)
			}},
	),
	Sorts: []mappings.SortDef{
		keySort(),
		mappings.SortDateTimeCol("date", "effective"),
	},
	Includes: append(includePatient("Observation"),
		fhir.Include{Source: "Observation", Param: "performer", Target: "Practitioner"}),
	DefaultCount: 50, MaxCount: 500,
	Row: observationRow,
}

// keySort is the _id sort of a row whose unique key is k where the PMS
// has one, else id.
func keySort() mappings.SortDef {
	return mappings.SortDef{Name: "_id", Sort: func(c mappings.Cols) mappings.Sort {
		if k, ok := c["k"]; ok {
			return mappings.SortInt(k)
		}
		return mappings.SortInt(c.Col("id"))
	}}
}

// category is an observation category with its display as the text.
// category writes an Observation's one category.
func category(w *mappings.JSON, code, display string) {
	w.Array("category")
	w.Concept("", display, mappings.Coding{System: mappings.CodeSystemObservationCategory, Code: code, Display: display})
	w.End()
}

func observationRow(codes ObservationCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c ObservationRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	id := observationPrefix[int(c.Src)] + c.ID.ID()
	w := mappings.NewResource("Observation")
	w.String("id", id)
	effective := func() {
		if !c.Effective.IsZero() {
			w.DateTime("effectiveDateTime", c.Effective, site.Location)
		}
	}
	switch c.Src {
	case ObservationSmoking:
		w.Meta(mappings.ProfileSmokingStatus, c.Updated, c.Created, site.Location)
		w.String("status", "final")
		category(w, "social-history", "Social History")
		w.Concept("code", "Smoking status",
			mappings.Coding{System: mappings.CodeSystemSNOMED, Code: SmokingSNOMED, Display: "Smoking status"},
			mappings.Coding{System: mappings.CodeSystemLOINC, Code: SmokingLOINC, Display: "Tobacco smoking status"})
		c.PatientRef(w, "subject")
		effective()
		s := codes.Smoking[string(c.Type)]
		w.Concept("valueCodeableConcept", "", mappings.Coding{System: mappings.CodeSystemSNOMED, Code: s[0], Display: s[1]})
	case ObservationLab:
		w.Meta(mappings.ProfilePathologyResult, c.Updated, c.Created, site.Location)
		labResult(w, &c, effective, site)
	default:
		vs := codes.Vitals[strings.ToUpper(string(c.Type))]
		w.Meta(vs.Profile, c.Updated, c.Created, site.Location)
		w.String("status", "final")
		category(w, "vital-signs", "Vital Signs")
		text := vs.Text
		if text == "" {
			text = string(c.Name)
		}
		if text == "" {
			text = vs.Display
		}
		w.Object("code")
		w.Array("coding")
		w.Coding("", mappings.Coding{System: mappings.CodeSystemLOINC, Code: vs.LOINC, Display: vs.Display})
		for _, also := range vs.Also {
			w.Coding("", also)
		}
		w.End()
		w.String("text", text)
		w.End()
		c.PatientRef(w, "subject")
		effective()
		if c.PractitionerID != 0 {
			w.Array("performer")
			c.PractitionerRef(w, "")
			w.End()
		}
		if vs.Panel {
			w.Array("component")
			bpComponent(w, SystolicCode, string(c.Value), vs)
			bpComponent(w, DiastolicCode, string(c.Value2), vs)
			w.End()
		} else if !vitalQuantity(w, string(c.Value), vs) {
			dataAbsent(w, "error", "Error", string(c.Value))
		}
	}
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: refs(c.Subject, c.Clinician, "performer")}, nil
}

// vitalQuantity writes a vital sign's value in its UCUM unit as
// valueQuantity; false, writing nothing, when the recorded value is not a
// number.
func vitalQuantity(w *mappings.JSON, value string, vs VitalSign) bool {
	v, dec, ok := mappings.Decimal(value)
	if !ok {
		return false
	}
	if vs.Decimals >= 0 {
		dec = vs.Decimals
	}
	w.Quantity("valueQuantity", v, dec, "", vs.Unit, vs.UCUM)
	return true
}

func bpComponent(w *mappings.JSON, code mappings.Coding, value string, vs VitalSign) {
	w.Object("")
	w.Concept("code", "", code)
	if !vitalQuantity(w, value, vs) {
		dataAbsent(w, "unknown", "Unknown", value)
	}
	w.End()
}

// dataAbsent writes a data-absent-reason, with the recorded text when
// there is one.
func dataAbsent(w *mappings.JSON, code, display, text string) {
	w.Concept("dataAbsentReason", text, mappings.Coding{System: mappings.CodeSystemDataAbsentReason, Code: code, Display: display})
}

// labResult writes a pathology result from its status on: the analyte,
// its value (a Quantity when numeric, with a comparator for "<5" or ">90",
// else a string), the abnormal flag, the reference range and the
// laboratory; effective writes the effective time in its place.
func labResult(w *mappings.JSON, c *ObservationRow, effective func(), site mappings.Site) {
	if c.Status == "preliminary" {
		w.String("status", "preliminary")
	} else {
		w.String("status", "final")
	}
	category(w, "laboratory", "Laboratory")
	name := string(c.Name)
	if name == "" {
		name = string(c.LOINC)
	}
	w.Concept("code", name, mappings.Coding{System: mappings.CodeSystemLOINC, Code: string(c.LOINC)})
	c.PatientRef(w, "subject")
	effective()
	if !c.Issued.IsZero() {
		w.Instant("issued", c.Issued, site.Location)
	}
	if c.Lab != "" {
		w.Array("performer")
		w.Object("")
		w.String("display", string(c.Lab))
		w.End()
		w.End()
	}
	value := string(c.Value)
	cmp, num := comparator(value)
	if v, dec, ok := mappings.Decimal(num); ok {
		w.Quantity("valueQuantity", v, dec, cmp, string(c.Units), labUnits[string(c.Units)])
	} else if value != "" {
		w.String("valueString", value)
	} else {
		dataAbsent(w, "unknown", "Unknown", "")
	}
	if flag := strings.ToUpper(string(c.Flag)); flag != "" {
		w.Array("interpretation")
		if d, ok := labFlags[flag]; ok {
			w.Concept("", "", mappings.Coding{System: mappings.CodeSystemObservationInterpretation, Code: flag, Display: d})
		} else {
			w.Concept("", string(c.Flag))
		}
		w.End()
	}
	if c.Range != "" {
		w.Array("referenceRange")
		w.Object("")
		w.String("text", string(c.Range))
		w.End()
		w.End()
	}
}

// comparator splits a leading <, <=, >= or > off a result.
func comparator(s string) (string, string) {
	s = strings.TrimSpace(s)
	for _, c := range []string{"<=", ">=", "<", ">"} {
		if rest, ok := strings.CutPrefix(s, c); ok {
			return c, strings.TrimSpace(rest)
		}
	}
	return "", s
}
