package zedmed

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

// m is a column of MEASUREMENT m.
func m(name string) string { return col("m", "MEASUREMENT."+name) }

// vitalSign is a MEAS_TYPE as an AU Core vital sign: its LOINC code, profile and UCUM unit
// (decimals -1: as many as recorded).
type vitalSign struct {
	loinc, display, profile string
	unit, ucum              string
	decimals                int
	// also are more LOINC codings of the same observation, which code searches find too.
	also []fm.Coding
}

// vitalSigns are the mapped MEASUREMENT.MEAS_TYPE codes (codes.go's assumption): every type
// the practice records.
var vitalSigns = map[string]vitalSign{
	"BP":   {"85354-9", "Blood pressure panel with all children optional", mappings.ProfileBloodPressure, "mmHg", "mm[Hg]", 0, nil},
	"HR":   {"8867-4", "Heart rate", mappings.ProfileHeartRate, "beats/minute", "/min", 0, nil},
	"WT":   {"29463-7", "Body weight", mappings.ProfileBodyWeight, "kg", "kg", 1, nil},
	"HT":   {"8302-2", "Body height", mappings.ProfileBodyHeight, "cm", "cm", 1, nil},
	"BMI":  {"39156-5", "Body mass index (BMI) [Ratio]", mappings.ProfileBMI, "kg/m2", "kg/m2", 1, nil},
	"TEMP": {"8310-5", "Body temperature", mappings.ProfileBodyTemperature, "°C", "Cel", 1, nil},
	"RR":   {"9279-1", "Respiratory rate", mappings.ProfileRespirationRate, "breaths/minute", "/min", -1, nil},
	// SpO2 by pulse oximetry: FHIR's oxygen saturation profile fixes 2708-6, and 59408-5 says
	// how it was measured (clients searching by either find it).
	"SPO2": {"2708-6", "Oxygen saturation in Arterial blood", mappings.ProfileOxygenSaturation, "%", "%", -1,
		[]fm.Coding{mappings.Coding(mappings.CodeSystemLOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")}},
}

var (
	systolicCode  = mappings.Coding(mappings.CodeSystemLOINC, "8480-6", "Systolic blood pressure")
	diastolicCode = mappings.Coding(mappings.CodeSystemLOINC, "8462-4", "Diastolic blood pressure")
)

// vitalTypes are the mapped MEAS_TYPE codes as SQL literals.
func vitalTypes() string {
	var out []string
	for t := range vitalSigns {
		out = append(out, "'"+t+"'")
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// observationCodeSQL is the code search: each LOINC code as a predicate on MEAS_TYPE (the
// systolic and diastolic codes find the blood pressure panels).
func observationCodeSQL() map[string]string {
	out := map[string]string{}
	for t, v := range vitalSigns {
		out[v.loinc] = m("MEAS_TYPE") + " = '" + t + "'"
		for _, c := range v.also {
			out[*c.Code] = out[v.loinc]
		}
	}
	out[*systolicCode.Code] = out["85354-9"]
	out[*diastolicCode.Code] = out["85354-9"]
	return out
}

var vitalProfiles = func() []string {
	var out []string
	for _, v := range vitalSigns {
		out = append(out, v.profile)
	}
	slices.Sort(out)
	return out
}()

// Observation maps MEASUREMENT rows of the mapped vital signs.
var Observation = mappings.NewTable(mappings.TableSpec{
	Type:     "Observation",
	Profiles: vitalProfiles,
	SQL:      observationSQL,
	Funcs:    withFuncs(template.FuncMap{"vitalTypes": vitalTypes}),
	Params: []mappings.Param{
		mappings.LastUpdatedParam(m("UPDATED_AT"), m("CREATED_AT")),
		{Name: "_id", Type: fhir.TypeToken, Doc: "The MEASUREMENT record's MEASUREMENT_ID",
			Match: mappings.ID(m("MEASUREMENT_ID"))},
		{Name: "patient", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(m("PATIENT_ID"), "Patient"), Chain: patientChain(m("PATIENT_ID"))},
		{Name: "subject", Type: fhir.TypeReference, Targets: []string{"Patient"}, Doc: "The patient",
			Match: mappings.Reference(m("PATIENT_ID"), "Patient")},
		{Name: "category", Type: fhir.TypeToken, Doc: "vital-signs (every mapped measurement)",
			Match: mappings.Codes(mappings.CodeSystemObservationCategory, map[string]string{"vital-signs": mappings.SQLTrue})},
		{Name: "code", Type: fhir.TypeToken, Doc: "LOINC code of the vital sign (85354-9, 8480-6 or 8462-4 for blood pressure; 2708-6 or 59408-5 for oxygen saturation)",
			Match: mappings.Codes(mappings.CodeSystemLOINC, observationCodeSQL())},
		{Name: "date", Type: fhir.TypeDate, Doc: "When it was measured",
			Match: mappings.DateTime(m("MEASURED_AT"))},
		{Name: "status", Type: fhir.TypeToken, Doc: "final (every measurement)",
			Match: mappings.Codes(mappings.CodeSystemObservationStatus, map[string]string{"final": mappings.SQLTrue})},
	},
	Sorts: map[string]mappings.Sort{
		"_id":  mappings.SortInt(m("MEASUREMENT_ID")),
		"date": mappings.SortDateTime(m("MEASURED_AT")),
	},
	Includes:     []fhir.Include{{Source: "Observation", Param: "patient", Target: "Patient"}},
	DefaultCount: 50, MaxCount: 500,
	Row: observationRow,
})

type observationColumns struct {
	ID mappings.Int `json:"id"`
	ownerColumns
	Type      mappings.Text   `json:"type"`
	Effective mappings.Wall   `json:"effective"`
	Value1    json.RawMessage `json:"value1"`
	Value2    json.RawMessage `json:"value2"`
	Created   mappings.Wall   `json:"created"`
	Updated   mappings.Wall   `json:"updated"`
}

// number reads a DOUBLE PRECISION column as the engines send it (a number or its text).
func number(raw json.RawMessage) (float64, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func observationRow(row []byte, site mappings.Site) (mappings.Row, error) {
	var c observationColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	vs := vitalSigns[strings.ToUpper(string(c.Type))]
	o := fm.Observation{
		Id:       mappings.Ptr(c.ID.ID()),
		Meta:     mappings.Meta(vs.profile, c.Updated, c.Created, site.Location),
		Status:   fm.ObservationStatusFinal,
		Category: []fm.CodeableConcept{*mappings.Concept(mappings.CodeSystemObservationCategory, "vital-signs", "Vital Signs", "")},
		Code:     *mappings.Concept(mappings.CodeSystemLOINC, vs.loinc, vs.display, vs.display),
		Subject:  c.patientRef(),
	}
	o.Code.Coding = append(o.Code.Coding, vs.also...)
	if r := c.doctorRef(); r != nil {
		o.Performer = []fm.Reference{*r}
	}
	if !c.Effective.IsZero() {
		o.EffectiveDateTime = mappings.Ptr(c.Effective.DateTime(site.Location))
	}
	v1, ok1 := number(c.Value1)
	v2, ok2 := number(c.Value2)
	if vs.loinc == "85354-9" {
		for _, part := range []struct {
			code fm.Coding
			v    float64
			ok   bool
		}{{systolicCode, v1, ok1}, {diastolicCode, v2, ok2}} {
			comp := fm.ObservationComponent{Code: fm.CodeableConcept{Coding: []fm.Coding{part.code}}}
			if part.ok {
				comp.ValueQuantity = mappings.Quantity(part.v, 0, vs.unit, vs.ucum)
			} else {
				comp.DataAbsentReason = mappings.Concept(mappings.CodeSystemDataAbsentReason, "unknown", "Unknown", "")
			}
			o.Component = append(o.Component, comp)
		}
	} else if ok1 {
		o.ValueQuantity = mappings.Quantity(v1, vs.decimals, vs.unit, vs.ucum)
	}
	raw, err := mappings.Marshal("Observation", fm.OtherObservation(o))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: c.refs("performer")}, nil
}
