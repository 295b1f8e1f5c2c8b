package bppremier

import (
	_ "embed"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed observation.sql
var observationSQL string

// smokingStatus is the SNOMED CT finding of each CLINICAL.SMOKINGSTATUS
// (0, none recorded, has no observation).
var smokingStatus = map[string][2]string{
	strconv.Itoa(smokingNonSmoker): {"266919005", "Never smoked tobacco"},
	strconv.Itoa(smokingExSmoker):  {"8517006", "Ex-smoker"},
	strconv.Itoa(smokingSmoker):    {"77176002", "Smoker"},
}

// vitalSigns are the OBSERVATIONS.DATACODEs served, systolic standing for
// the blood pressure panel (diastolic joins it as a component).
var vitalSigns = map[int]aucore.VitalSign{
	obsTemperature: {LOINC: "8310-5", Display: "Body temperature", Profile: mappings.ProfileBodyTemperature, Unit: "°C", UCUM: "Cel", Decimals: -1},
	obsPulse:       {LOINC: "8867-4", Display: "Heart rate", Profile: mappings.ProfileHeartRate, Unit: "beats/minute", UCUM: "/min", Decimals: -1},
	obsSystolic: {LOINC: "85354-9", Display: "Blood pressure panel with all children optional", Profile: mappings.ProfileBloodPressure,
		Unit: "mmHg", UCUM: "mm[Hg]", Decimals: -1, Text: "Blood pressure", Panel: true},
	obsHeight:   {LOINC: "8302-2", Display: "Body height", Profile: mappings.ProfileBodyHeight, Unit: "cm", UCUM: "cm", Decimals: -1},
	obsWeight:   {LOINC: "29463-7", Display: "Body weight", Profile: mappings.ProfileBodyWeight, Unit: "kg", UCUM: "kg", Decimals: -1},
	obsBMI:      {LOINC: "39156-5", Display: "Body mass index (BMI) [Ratio]", Profile: mappings.ProfileBMI, Unit: "kg/m2", UCUM: "kg/m2", Decimals: -1},
	obsHeadCirc: {LOINC: "9843-4", Display: "Head Occipital-frontal circumference", Profile: mappings.ProfileHeadCircumference, Unit: "cm", UCUM: "cm", Decimals: -1},
	obsWaist:    {LOINC: "8280-0", Display: "Waist Circumference at umbilicus by Tape measure", Profile: mappings.ProfileWaistCircumference, Unit: "cm", UCUM: "cm", Decimals: -1},
}

// vitals are vitalSigns by the row's type (DATACODE as text), a
// diastolic row alone as the blood pressure panel.
func vitals() map[string]aucore.VitalSign {
	out := map[string]aucore.VitalSign{strconv.Itoa(obsDiastolic): vitalSigns[obsSystolic]}
	for code, vs := range vitalSigns {
		out[strconv.Itoa(code)] = vs
	}
	return out
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

// observationCols are Observation's columns in observation.sql: its
// union of vital signs (src 1), pathology results (2) and smoking status
// (3).
var observationCols = clinicalCols(`o."patient"`, mappings.Cols{
	"k":         `o."k"`,
	"src":       `o."src"`,
	"id":        `o."rid"`,
	"type":      `o."datacode"`,
	"loinc":     `o."loinc"`,
	"name":      `o."name"`,
	"value":     `o."value"`,
	"value2":    `o."value2"`,
	"units":     `o."units"`,
	"range":     `o."range"`,
	"flag":      `o."flag"`,
	"status":    `o."status"`,
	"effective": `o."effective"`,
	"issued":    `o."issued"`,
	"report_id": `o."report_id"`,
	"lab":       `o."lab"`,
	"created":   `o."created"`,
	"updated":   `o."updated"`,
})

// Observation maps vital signs (OBSERVATIONS), pathology results
// (REPORTVALUES) and the smoking status (CLINICAL) of live patients
// (aucore.Observation).
var Observation = aucore.Observation.Table(mappings.Impl[aucore.ObservationCodes]{
	Profiles: []string{mappings.ProfileBloodPressure, mappings.ProfileHeartRate, mappings.ProfileBodyTemperature,
		mappings.ProfileBodyHeight, mappings.ProfileBodyWeight, mappings.ProfileBMI, mappings.ProfileWaistCircumference,
		mappings.ProfilePathologyResult, mappings.ProfileSmokingStatus},
	Cols:  observationCols,
	From:  observationSQL,
	Funcs: observationFuncs,
	Codes: aucore.ObservationCodes{
		Vitals: vitals(),
		CategorySQL: map[string]string{
			"vital-signs":    `o."src" = 1`,
			"laboratory":     `o."src" = 2`,
			"social-history": `o."src" = 3`,
		},
		StatusSQL: map[string]string{
			"final":       `o."status" = 'final'`,
			"preliminary": `o."status" = 'preliminary'`,
		},
		Smoking: smokingStatus,
	},
	Match: map[string]mappings.Matcher{
		"_id": mappings.PrefixedID(map[string]func(string) string{
			"vs":      func(p string) string { return `(o."src" = 1 AND o."rid" = ` + p + ")" },
			"lab":     func(p string) string { return `(o."src" = 2 AND o."rid" = ` + p + ")" },
			"smoking": func(p string) string { return `(o."src" = 3 AND o."rid" = ` + p + ")" },
		}),
		"code": observationCode(),
	},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})

// observationCode matches LOINC codes: a vital sign's by its DATACODE, any
// other against the codes laboratories sent.
func observationCode() mappings.Matcher {
	lab := mappings.CodeColumn(mappings.CodeSystemLOINC, `o."loinc"`)
	return mappings.MatchFunc(func(b *mappings.Builder, modifier string, v fhir.Value) (string, error) {
		if modifier == "" && (v.System == nil || *v.System == mappings.CodeSystemLOINC) {
			for code, vs := range vitalSigns {
				if vs.LOINC == v.Code {
					dc := []string{strconv.Itoa(code)}
					if code == obsSystolic {
						dc = append(dc, strconv.Itoa(obsDiastolic))
					}
					return `(o."src" = 1 AND o."datacode" IN (` + strings.Join(dc, ", ") + "))", nil
				}
			}
			if v.Code == aucore.SmokingLOINC {
				return `o."src" = 3`, nil
			}
		}
		if modifier == "" && v.System != nil && *v.System == mappings.CodeSystemSNOMED && v.Code == aucore.SmokingSNOMED {
			return `o."src" = 3`, nil
		}
		return lab.Match(b, modifier, v)
	})
}
