package bppremier

import (
	_ "embed"
	"strings"
	"text/template"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed allergyintolerance.sql
var allergyIntoleranceSQL string

// allergyCols are AllergyIntolerance's columns in allergyintolerance.sql.
var allergyCols = clinicalCols(`a."patient"`, mappings.Cols{
	"k":         `a."k"`,
	"src":       `a."src"`,
	"id":        `a."rid"`,
	"status":    `a."status"`,
	"substance": `a."item"`,
	"reaction":  `a."reaction"`,
	"severity":  `a."severity"`,
	"comment":   `a."comment"`,
	"created":   `a."created"`,
	"updated":   `a."updated"`,
})

// AllergyIntolerance maps the REACTIONS of live patients (Bp records drug
// reactions: products, ingredients and drug classes, so every one is a
// medication allergy) and the "nil known" state of CLINICAL.KNOWNALLERGIES
// as SNOMED CT 716186003 No known allergy (aucore.AllergyIntolerance).
var AllergyIntolerance = aucore.AllergyIntolerance.Table(mappings.Impl[aucore.AllergyIntoleranceCodes]{
	Cols: allergyCols,
	From: allergyIntoleranceSQL,
	Funcs: withFuncs(template.FuncMap{
		"nilKnown": func() int { return allergiesNilKnown },
	}),
	Codes: aucore.AllergyIntoleranceCodes{
		Category: func(int) (string, bool) { return "medication", true },
		Severity: reactionSeverity,
	},
	Match:  map[string]mappings.Matcher{"_id": allergyID()},
	Chains: map[string]mappings.ChainTarget{"Patient": Patient},
})

// withFuncs is the SQL templates' functions and more.
func withFuncs(more template.FuncMap) template.FuncMap {
	m := template.FuncMap{}
	for k, v := range funcs {
		m[k] = v
	}
	for k, v := range more {
		m[k] = v
	}
	return m
}

// allergyID matches a reaction's RECORDID or a no known allergy record's
// nka-{patient}.
func allergyID() mappings.Matcher {
	reaction := mappings.ID(`a."rid"`)
	return mappings.MatchFunc(func(b *mappings.Builder, modifier string, v fhir.Value) (string, error) {
		if rest, ok := strings.CutPrefix(v.Code, aucore.NoKnownAllergyPrefix); ok {
			v.Code = rest
			pred, err := mappings.ID(`a."patient"`).Match(b, modifier, v)
			if err != nil || pred == mappings.SQLFalse {
				return pred, err
			}
			return `(a."src" = 2 AND ` + pred + ")", nil
		}
		pred, err := reaction.Match(b, modifier, v)
		if err != nil || pred == mappings.SQLFalse {
			return pred, err
		}
		return `(a."src" = 1 AND ` + pred + ")", nil
	})
}

// reactionSeverity is FHIR's reaction severity for SEVERITYCODES.
var reactionSeverity = map[int]string{
	severityMild:     "mild",
	severityModerate: "moderate",
	severitySevere:   "severe",
}
