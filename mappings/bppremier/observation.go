package bppremier

import (
	_ "embed"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"text/template"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed observation.sql
var observationSQL string

// Observation ids name their source: "vs-" and an OBSERVATIONS.RECORDID
// (a blood pressure panel takes its systolic row's), "lab-" and a
// REPORTVALUES.RECORDID.
const (
	obsVitalPrefix   = "vs"
	obsLabPrefix     = "lab"
	obsSmokingPrefix = "smoking"
)

// smokingStatus is the SNOMED CT finding of each CLINICAL.SMOKINGSTATUS
// (0, none recorded, has no observation).
var smokingStatus = map[int][2]string{
	smokingNonSmoker: {"266919005", "Never smoked tobacco"},
	smokingExSmoker:  {"8517006", "Ex-smoker"},
	smokingSmoker:    {"77176002", "Smoker"},
}

// The codes of FHIR's observation category and status value sets: a code
// outside them is a bad request, a code in them that Bp never records
// matches nothing.
var (
	observationCategories = []string{"social-history", "vital-signs", "imaging", "laboratory", "procedure", "survey", "exam", "therapy", "activity"}
	observationStatuses   = []string{"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
)

// vitalSign is what a Bp observation code becomes: its LOINC code, the
// AU Core (or FHIR) profile and the UCUM unit of its value.
type vitalSign struct {
	loinc, display, profile string
	unit, ucum              string
}

// vitalSigns are the OBSERVATIONS.DATACODEs served, systolic standing for
// the blood pressure panel (diastolic joins it as a component).
var vitalSigns = map[int]vitalSign{
	obsTemperature: {"8310-5", "Body temperature", mappings.ProfileBodyTemperature, "°C", "Cel"},
	obsPulse:       {"8867-4", "Heart rate", mappings.ProfileHeartRate, "beats/minute", "/min"},
	obsSystolic:    {"85354-9", "Blood pressure panel with all children optional", mappings.ProfileBloodPressure, "mmHg", "mm[Hg]"},
	obsHeight:      {"8302-2", "Body height", mappings.ProfileBodyHeight, "cm", "cm"},
	obsWeight:      {"29463-7", "Body weight", mappings.ProfileBodyWeight, "kg", "kg"},
	obsBMI:         {"39156-5", "Body mass index (BMI) [Ratio]", mappings.ProfileBMI, "kg/m2", "kg/m2"},
	obsHeadCirc:    {"9843-4", "Head Occipital-frontal circumference", mappings.ProfileHeadCircumference, "cm", "cm"},
	obsWaist:       {"8280-0", "Waist Circumference at umbilicus by Tape measure", mappings.ProfileWaistCircumference, "cm", "cm"},
}

// The codes of the smoking status observation (AU Core's).
const (
	smokingSNOMED = "1747861000168109"
	smokingLOINC  = "72166-2"
)

// The blood pressure components.
var (
	systolicCode  = mappings.Coding(mappings.CodeSystemLOINC, "8480-6", "Systolic blood pressure")
	diastolicCode = mappings.Coding(mappings.CodeSystemLOINC, "8462-4", "Diastolic blood pressure")
)

// labUnits are the UCUM codes of the units pathology reports print (the
// printed unit is kept as Quantity.unit); a unit not listed gets no code.
var labUnits = map[string]string{
	"%": "%", "mmol/L": "mmol/L", "mmol/mol": "mmol/mol", "umol/L": "umol/L", "µmol/L": "umol/L",
	"mL/min/1.73m2": "mL/min/{1.73_m2}", "mg/mmol": "mg/mmol", "mIU/L": "m[IU]/L", "g/L": "g/L",
	"x10^9/L": "10*9/L", "x10^12/L": "10*12/L", "mg/L": "mg/L", "U/L": "U/L", "nmol/L": "nmol/L",
	"pmol/L": "pmol/L", "fL": "fL", "pg": "pg", "mm/h": "mm/h", "s": "s", "ug/L": "ug/L",
}

// labFlags are REPORTVALUES.ABNORMALFLAG values (HL7 v2 abnormal flags, as
// labs send them) and their v3 interpretation codes.
var labFlags = map[string]string{
	"L": "Low", "H": "High", "LL": "Critical low", "HH": "Critical high", "A": "Abnormal", "AA": "Critical abnormal", "N": "Normal",
}

var observationFuncs = withFuncs(template.FuncMap{
	"addSeconds": mappings.AddSeconds,
	"systolic":   func() int { return obsSystolic },
	"smokingKey": func() int { return -1 << 30 },
	"smokingCodes": func() string {
		return strings.Join([]string{strconv.Itoa(smokingNonSmoker), strconv.Itoa(smokingExSmoker), strconv.Itoa(smokingSmoker)}, ", ")
	},
	"diastolic": func() int { return obsDiastolic },
	"vitalCodes": func() string {
		var codes []int
		for c := range vitalSigns {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		s := make([]string, len(codes))
		for i, c := range codes {
			s[i] = strconv.Itoa(c)
		}
		return strings.Join(s, ", ")
	},
})

// Observation maps vital signs (OBSERVATIONS) and pathology results
// (REPORTVALUES) of live patients.
var Observation = mappings.NewTable(mappings.TableSpec{
	Type: "Observation",
	Profiles: []string{mappings.ProfileBloodPressure, mappings.ProfileHeartRate, mappings.ProfileBodyTemperature,
		mappings.ProfileBodyHeight, mappings.ProfileBodyWeight, mappings.ProfileBMI, mappings.ProfileWaistCircumference,
		mappings.ProfilePathologyResult, mappings.ProfileSmokingStatus},
	SQL:   observationSQL,
	Funcs: observationFuncs,
	Params: []mappings.Param{
		mappings.LastUpdatedParam(`o."updated"`, `o."created"`),
		{Name: "_id", Type: fhir.TypeToken, Doc: "vs-{OBSERVATIONS.RECORDID}, lab-{REPORTVALUES.RECORDID} or smoking-{patient id}",
			Match: mappings.PrefixedID(map[string]func(string) string{
				obsVitalPrefix:   func(p string) string { return `(o."src" = 1 AND o."rid" = ` + p + ")" },
				obsLabPrefix:     func(p string) string { return `(o."src" = 2 AND o."rid" = ` + p + ")" },
				obsSmokingPrefix: func(p string) string { return `(o."src" = 3 AND o."rid" = ` + p + ")" },
			})},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`o."patient"`, "Patient"), Chain: patientChain(`o."patient"`)},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(`o."patient"`, "Patient")},
		{Name: "category", Type: fhir.TypeToken, Doc: "vital-signs (OBSERVATIONS), laboratory (REPORTVALUES) or social-history (smoking status)",
			Match: mappings.StrictCodes(mappings.CodeSystemObservationCategory, map[string]string{
				"vital-signs":    `o."src" = 1`,
				"laboratory":     `o."src" = 2`,
				"social-history": `o."src" = 3`,
			}, observationCategories)},
		{Name: "code", Type: fhir.TypeToken, Doc: "LOINC code: of the vital sign (85354-9 for blood pressure), 72166-2 smoking status, or as the laboratory sent it",
			Match: observationCode()},
		{Name: "date", Type: fhir.TypeDate, Doc: "When measured (date and time of the observation), or when the specimen was collected",
			Match: mappings.DateTime(`o."effective"`)},
		{Name: "status", Type: fhir.TypeToken, Doc: "final, or preliminary for an incomplete pathology report",
			Match: mappings.StrictCodes(mappings.CodeSystemObservationStatus, map[string]string{
				"final":       `o."status" = 'final'`,
				"preliminary": `o."status" = 'preliminary'`,
			}, observationStatuses)},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(`o."k"`),
		"date": mappings.SortDateTime(`o."effective"`),
	},
	Includes:     []fhir.Include{{Source: "Observation", Param: "patient", Target: "Patient"}, {Source: "Observation", Param: "performer", Target: "Practitioner"}},
	DefaultCount: 50, MaxCount: 500,
	Row: observationRow,
})

// observationCode matches LOINC codes: a vital sign's by its DATACODE, any
// other against the codes laboratories sent.
func observationCode() mappings.Matcher {
	lab := mappings.CodeColumn(mappings.CodeSystemLOINC, `o."loinc"`)
	return mappings.MatchFunc(func(b *mappings.Builder, modifier string, v fhir.Value) (string, error) {
		if modifier == "" && (v.System == nil || *v.System == mappings.CodeSystemLOINC) {
			for code, vs := range vitalSigns {
				if vs.loinc == v.Code {
					dc := []string{strconv.Itoa(code)}
					if code == obsSystolic {
						dc = append(dc, strconv.Itoa(obsDiastolic))
					}
					return `(o."src" = 1 AND o."datacode" IN (` + strings.Join(dc, ", ") + "))", nil
				}
			}
			if v.Code == smokingLOINC {
				return `o."src" = 3`, nil
			}
		}
		if modifier == "" && v.System != nil && *v.System == mappings.CodeSystemSNOMED && v.Code == smokingSNOMED {
			return `o."src" = 3`, nil
		}
		return lab.Match(b, modifier, v)
	})
}

type observationColumns struct {
	Src           mappings.Int  `json:"src"`
	RID           mappings.Int  `json:"rid"`
	Patient       mappings.Int  `json:"patient"`
	PatientFirst  mappings.Text `json:"patient_first"`
	PatientFamily mappings.Text `json:"patient_family"`
	DataCode      mappings.Int  `json:"datacode"`
	LOINC         mappings.Text `json:"loinc"`
	Name          mappings.Text `json:"name"`
	Value         mappings.Text `json:"value"`
	Value2        mappings.Text `json:"value2"`
	Units         mappings.Text `json:"units"`
	Range         mappings.Text `json:"range"`
	Flag          mappings.Text `json:"flag"`
	Status        mappings.Text `json:"status"`
	Effective     mappings.Wall `json:"effective"`
	Issued        mappings.Wall `json:"issued"`
	Lab           mappings.Text `json:"lab"`
	userColumns
	Created mappings.Wall `json:"created"`
	Updated mappings.Wall `json:"updated"`
}

// userColumns are the columns of the clinical user a row names.
type userColumns struct {
	UserID     mappings.Int  `json:"user_id"`
	UserTitle  mappings.Text `json:"user_title"`
	UserFirst  mappings.Text `json:"user_first"`
	UserFamily mappings.Text `json:"user_family"`
}

// ref is the reference to the Practitioner, nil when the row names none.
func (c userColumns) ref() *fm.Reference {
	if c.UserID == 0 {
		return nil
	}
	return mappings.Ref("Practitioner", c.UserID.ID(), mappings.PersonName(string(c.UserTitle), string(c.UserFirst), string(c.UserFamily)))
}

// patientRef is the reference to the patient, with the patient's name.
func patientRef(id mappings.Int, first, family mappings.Text) *fm.Reference {
	return mappings.Ref("Patient", id.ID(), mappings.PersonName(string(first), string(family)))
}

func observationRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c observationColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	o := fm.Observation{
		Subject:           patientRef(c.Patient, c.PatientFirst, c.PatientFamily),
		EffectiveDateTime: mappings.Ptr(c.Effective.DateTime(site.Location)),
		Status:            fm.ObservationStatusFinal,
	}
	refs := map[string][]string{"patient": {c.Patient.ID()}}
	if c.Src == 3 {
		o.Id = mappings.Ptr(obsSmokingPrefix + "-" + c.RID.ID())
		o.Meta = mappings.Meta(mappings.ProfileSmokingStatus, c.Updated, c.Created, site.Location)
		o.Category = []fm.CodeableConcept{{Coding: []fm.Coding{mappings.Coding(mappings.CodeSystemObservationCategory, "social-history", "Social History")}, Text: mappings.Ptr("Social History")}}
		o.Code = fm.CodeableConcept{Coding: []fm.Coding{
			mappings.Coding(mappings.CodeSystemSNOMED, smokingSNOMED, "Smoking status"),
			mappings.Coding(mappings.CodeSystemLOINC, smokingLOINC, "Tobacco smoking status"),
		}, Text: mappings.Ptr("Smoking status")}
		s := smokingStatus[int(c.DataCode)]
		o.ValueCodeableConcept = mappings.Concept(mappings.CodeSystemSNOMED, s[0], s[1], "")
	} else if c.Src == 2 {
		o.Id = mappings.Ptr(obsLabPrefix + "-" + c.RID.ID())
		o.Meta = mappings.Meta(mappings.ProfilePathologyResult, c.Updated, c.Created, site.Location)
		labResult(&o, &c, site)
	} else {
		o.Id = mappings.Ptr(obsVitalPrefix + "-" + c.RID.ID())
		code := int(c.DataCode)
		if code == obsDiastolic {
			code = obsSystolic
		}
		vs := vitalSigns[code]
		o.Meta = mappings.Meta(vs.profile, c.Updated, c.Created, site.Location)
		o.Category = []fm.CodeableConcept{{Coding: []fm.Coding{mappings.Coding(mappings.CodeSystemObservationCategory, "vital-signs", "Vital Signs")}, Text: mappings.Ptr("Vital Signs")}}
		o.Code = fm.CodeableConcept{Coding: []fm.Coding{mappings.Coding(mappings.CodeSystemLOINC, vs.loinc, vs.display)}, Text: mappings.Ptr(string(c.Name))}
		if code == obsSystolic {
			o.Code.Text = mappings.Ptr("Blood pressure")
			o.Component = []fm.ObservationComponent{
				bpComponent(systolicCode, string(c.Value), vs),
				bpComponent(diastolicCode, string(c.Value2), vs),
			}
		} else if q := vitalQuantity(string(c.Value), vs); q != nil {
			o.ValueQuantity = q
		} else {
			o.DataAbsentReason = dataAbsent("error", "Error", string(c.Value))
		}
		if p := c.userColumns.ref(); p != nil {
			o.Performer = []fm.Reference{*p}
			refs["performer"] = []string{c.UserID.ID()}
		}
	}
	raw, err := mappings.Marshal("Observation", fm.OtherObservation(o))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: refs}, nil
}

// vitalQuantity is a vital sign's value in its UCUM unit; nil when the
// recorded value is not a number.
func vitalQuantity(value string, vs vitalSign) *fm.Quantity {
	v, dec, ok := mappings.Decimal(value)
	if !ok {
		return nil
	}
	return mappings.Quantity(v, dec, vs.unit, vs.ucum)
}

func bpComponent(code fm.Coding, value string, vs vitalSign) fm.ObservationComponent {
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
func labResult(o *fm.Observation, c *observationColumns, site mappings.Site) {
	if c.Status == "preliminary" {
		o.Status = fm.ObservationStatusPreliminary
	}
	o.Category = []fm.CodeableConcept{{Coding: []fm.Coding{mappings.Coding(mappings.CodeSystemObservationCategory, "laboratory", "Laboratory")}, Text: mappings.Ptr("Laboratory")}}
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
