package zedmed

import (
	_ "embed"
	"slices"
	"strings"
	"text/template"

	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed observation.sql
var observationSQL string

// m is a column of MEASUREMENT m.
func m(name string) string { return col("m", "MEASUREMENT."+name) }

// vitalSigns are the mapped MEASUREMENT.MEAS_TYPE codes (codes.go's assumption): every type
// the practice records, with the decimals its value is written with (-1: as many as
// recorded).
var vitalSigns = map[string]aucore.VitalSign{
	"BP": {LOINC: "85354-9", Display: "Blood pressure panel with all children optional", Profile: mappings.ProfileBloodPressure,
		Unit: "mmHg", UCUM: "mm[Hg]", Decimals: 0, Panel: true},
	"HR":   {LOINC: "8867-4", Display: "Heart rate", Profile: mappings.ProfileHeartRate, Unit: "beats/minute", UCUM: "/min", Decimals: 0},
	"WT":   {LOINC: "29463-7", Display: "Body weight", Profile: mappings.ProfileBodyWeight, Unit: "kg", UCUM: "kg", Decimals: 1},
	"HT":   {LOINC: "8302-2", Display: "Body height", Profile: mappings.ProfileBodyHeight, Unit: "cm", UCUM: "cm", Decimals: 1},
	"BMI":  {LOINC: "39156-5", Display: "Body mass index (BMI) [Ratio]", Profile: mappings.ProfileBMI, Unit: "kg/m2", UCUM: "kg/m2", Decimals: 1},
	"TEMP": {LOINC: "8310-5", Display: "Body temperature", Profile: mappings.ProfileBodyTemperature, Unit: "°C", UCUM: "Cel", Decimals: 1},
	"RR":   {LOINC: "9279-1", Display: "Respiratory rate", Profile: mappings.ProfileRespirationRate, Unit: "breaths/minute", UCUM: "/min", Decimals: -1},
	// SpO2 by pulse oximetry: FHIR's oxygen saturation profile fixes 2708-6, and 59408-5 says
	// how it was measured (clients searching by either find it).
	"SPO2": {LOINC: "2708-6", Display: "Oxygen saturation in Arterial blood", Profile: mappings.ProfileOxygenSaturation, Unit: "%", UCUM: "%", Decimals: -1,
		Also: []mappings.Coding{{System: mappings.CodeSystemLOINC, Code: "59408-5", Display: "Oxygen saturation in Arterial blood by Pulse oximetry"}}},
}

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
		out[v.LOINC] = m("MEAS_TYPE") + " = '" + t + "'"
		for _, c := range v.Also {
			out[c.Code] = out[v.LOINC]
		}
	}
	out[aucore.SystolicCode.Code] = out["85354-9"]
	out[aucore.DiastolicCode.Code] = out["85354-9"]
	return out
}

var vitalProfiles = func() []string {
	var out []string
	for _, v := range vitalSigns {
		out = append(out, v.Profile)
	}
	slices.Sort(out)
	return out
}()

// observationCols are Observation's columns in observation.sql.
var observationCols = clinicalCols(m("PATIENT_ID"), mappings.Cols{
	"id":        m("MEASUREMENT_ID"),
	"type":      m("MEAS_TYPE"),
	"effective": m("MEASURED_AT"),
	"value":     m("VALUE_1"),
	"value2":    m("VALUE_2"),
	"created":   m("CREATED_AT"),
	"updated":   m("UPDATED_AT"),
})

// Observation maps MEASUREMENT rows of the mapped vital signs
// (aucore.Observation). It offers no _include of the performer.
var Observation = aucore.Observation.Table(mappings.Impl[aucore.ObservationCodes]{
	Profiles: vitalProfiles,
	Cols:     observationCols,
	From:     observationSQL,
	Funcs:    withFuncs(template.FuncMap{"vitalTypes": vitalTypes}),
	Codes: aucore.ObservationCodes{
		Vitals:      vitalSigns,
		CategorySQL: map[string]string{"vital-signs": mappings.SQLTrue},
		CodeSQL:     observationCodeSQL(),
		StatusSQL:   map[string]string{"final": mappings.SQLTrue},
	},
	Omit:   []string{"performer"},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})
