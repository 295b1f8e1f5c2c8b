package aucore

import (
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

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
	Also                    []fm.Coding
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
	SystolicCode  = mappings.Coding(mappings.CodeSystemLOINC, "8480-6", "Systolic blood pressure")
	DiastolicCode = mappings.Coding(mappings.CodeSystemLOINC, "8462-4", "Diastolic blood pressure")
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
func category(code, display string) []fm.CodeableConcept {
	return []fm.CodeableConcept{{Coding: []fm.Coding{mappings.Coding(mappings.CodeSystemObservationCategory, code, display)}, Text: mappings.Ptr(display)}}
}

func observationRow(codes ObservationCodes, row []byte, site mappings.Site) (mappings.Row, error) {
	var c ObservationRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	o := fm.Observation{
		Id:      mappings.Ptr(observationPrefix[int(c.Src)] + c.ID.ID()),
		Subject: c.PatientRef(),
		Status:  fm.ObservationStatusFinal,
	}
	if !c.Effective.IsZero() {
		o.EffectiveDateTime = mappings.Ptr(c.Effective.DateTime(site.Location))
	}
	refs := refs(c.Subject, c.Clinician, "performer")
	switch c.Src {
	case ObservationSmoking:
		o.Meta = mappings.Meta(mappings.ProfileSmokingStatus, c.Updated, c.Created, site.Location)
		o.Category = category("social-history", "Social History")
		o.Code = fm.CodeableConcept{Coding: []fm.Coding{
			mappings.Coding(mappings.CodeSystemSNOMED, SmokingSNOMED, "Smoking status"),
			mappings.Coding(mappings.CodeSystemLOINC, SmokingLOINC, "Tobacco smoking status"),
		}, Text: mappings.Ptr("Smoking status")}
		s := codes.Smoking[string(c.Type)]
		o.ValueCodeableConcept = mappings.Concept(mappings.CodeSystemSNOMED, s[0], s[1], "")
	case ObservationLab:
		o.Meta = mappings.Meta(mappings.ProfilePathologyResult, c.Updated, c.Created, site.Location)
		labResult(&o, &c, site)
	default:
		vs := codes.Vitals[strings.ToUpper(string(c.Type))]
		o.Meta = mappings.Meta(vs.Profile, c.Updated, c.Created, site.Location)
		o.Category = category("vital-signs", "Vital Signs")
		text := vs.Text
		if text == "" {
			text = string(c.Name)
		}
		if text == "" {
			text = vs.Display
		}
		o.Code = fm.CodeableConcept{Coding: append([]fm.Coding{mappings.Coding(mappings.CodeSystemLOINC, vs.LOINC, vs.Display)}, vs.Also...),
			Text: mappings.Ptr(text)}
		if vs.Panel {
			o.Component = []fm.ObservationComponent{
				bpComponent(SystolicCode, string(c.Value), vs),
				bpComponent(DiastolicCode, string(c.Value2), vs),
			}
		} else if q := vitalQuantity(string(c.Value), vs); q != nil {
			o.ValueQuantity = q
		} else {
			o.DataAbsentReason = dataAbsent("error", "Error", string(c.Value))
		}
		if p := c.PractitionerRef(); p != nil {
			o.Performer = []fm.Reference{*p}
		}
	}
	raw, err := mappings.Marshal("Observation", fm.OtherObservation(o))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{ID: *o.Id, Resource: raw, Refs: refs}, nil
}

// vitalQuantity is a vital sign's value in its UCUM unit; nil when the
// recorded value is not a number.
func vitalQuantity(value string, vs VitalSign) *fm.Quantity {
	v, dec, ok := mappings.Decimal(value)
	if !ok {
		return nil
	}
	if vs.Decimals >= 0 {
		dec = vs.Decimals
	}
	return mappings.Quantity(v, dec, vs.Unit, vs.UCUM)
}

func bpComponent(code fm.Coding, value string, vs VitalSign) fm.ObservationComponent {
	comp := fm.ObservationComponent{Code: fm.CodeableConcept{Coding: []fm.Coding{code}}}
	if q := vitalQuantity(value, vs); q != nil {
		comp.ValueQuantity = q
	} else {
		comp.DataAbsentReason = dataAbsent("unknown", "Unknown", value)
	}
	return comp
}

// dataAbsent is a data-absent-reason, with the recorded text when there
// is one.
func dataAbsent(code, display, text string) *fm.CodeableConcept {
	return mappings.Concept(mappings.CodeSystemDataAbsentReason, code, display, strings.TrimSpace(text))
}

// labResult fills a pathology result: the analyte, its value (a Quantity
// when numeric, with a comparator for "<5" or ">90", else a string), the
// reference range, the abnormal flag and the laboratory.
func labResult(o *fm.Observation, c *ObservationRow, site mappings.Site) {
	if c.Status == "preliminary" {
		o.Status = fm.ObservationStatusPreliminary
	}
	o.Category = category("laboratory", "Laboratory")
	name := string(c.Name)
	o.Code = fm.CodeableConcept{}
	if c.LOINC != "" {
		o.Code.Coding = []fm.Coding{mappings.Coding(mappings.CodeSystemLOINC, string(c.LOINC), "")}
	}
	if name == "" {
		name = string(c.LOINC)
	}
	if name != "" {
		o.Code.Text = mappings.Ptr(name)
	}
	value := string(c.Value)
	cmp, num := comparator(value)
	if v, dec, ok := mappings.Decimal(num); ok {
		q := mappings.Quantity(v, dec, string(c.Units), labUnits[string(c.Units)])
		q.Comparator = cmp
		o.ValueQuantity = q
	} else if value != "" {
		o.ValueString = mappings.Ptr(value)
	} else {
		o.DataAbsentReason = dataAbsent("unknown", "Unknown", "")
	}
	if c.Range != "" {
		o.ReferenceRange = []fm.ObservationReferenceRange{{Text: mappings.Ptr(string(c.Range))}}
	}
	if flag := strings.ToUpper(string(c.Flag)); flag != "" {
		if d, ok := labFlags[flag]; ok {
			o.Interpretation = []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemObservationInterpretation, flag, d, "")}
		} else {
			o.Interpretation = []fm.CodeableConcept{{Text: mappings.Ptr(string(c.Flag))}}
		}
	}
	if !c.Issued.IsZero() {
		o.Issued = mappings.Ptr(c.Issued.Instant(site.Location))
	}
	if c.Lab != "" {
		o.Performer = []fm.Reference{{Display: mappings.Ptr(string(c.Lab))}}
	}
}

// comparator splits a leading <, <=, >= or > off a result.
func comparator(s string) (*fm.QuantityComparator, string) {
	s = strings.TrimSpace(s)
	for _, c := range []fm.QuantityComparator{fm.QuantityComparatorLessOrEquals, fm.QuantityComparatorGreaterOrEquals, fm.QuantityComparatorLessThan, fm.QuantityComparatorGreaterThan} {
		if rest, ok := strings.CutPrefix(s, c.Code()); ok {
			return &c, strings.TrimSpace(rest)
		}
	}
	return nil, s
}
