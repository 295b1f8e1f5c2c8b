package fhirwrite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// medicareSystem is AU Base's Medicare card number system: the 10-digit
// card number, with the person's IRN as an 11th digit.
const medicareSystem = "http://ns.electronichealth.net.au/id/medicare-number"

// The most characters a new patient's text may have: the narrowest of the
// practice systems' columns (Bp Premier's), so a value is never cut.
var patientLimits = []struct {
	elem string
	max  int
	get  func(*mappings.NewPatient) string
}{
	{"Patient.name.family", 40, func(p *mappings.NewPatient) string { return p.Family }},
	{"Patient.name.given[0]", 40, func(p *mappings.NewPatient) string { return p.Given }},
	{"Patient.name.given[1]", 30, func(p *mappings.NewPatient) string { return p.Middle }},
	{"Patient.address.line[0]", 40, func(p *mappings.NewPatient) string { return p.Line1 }},
	{"Patient.address.line[1]", 40, func(p *mappings.NewPatient) string { return p.Line2 }},
	{"Patient.address.city", 40, func(p *mappings.NewPatient) string { return p.City }},
	{"Patient.telecom (home phone)", 14, func(p *mappings.NewPatient) string { return p.HomePhone }},
	{"Patient.telecom (mobile)", 14, func(p *mappings.NewPatient) string { return p.MobilePhone }},
	{"Patient.telecom (email)", 100, func(p *mappings.NewPatient) string { return p.Email }},
}

var (
	postcodeRE = regexp.MustCompile(`^[0-9]{4}$`)
	medicareRE = regexp.MustCompile(`^[0-9]{10}[1-9]?$`)
)

// CreatePatient registers the Patient in body (FHIR JSON). With
// ifNoneExist (the If-None-Exist header: a Patient search, such as
// identifier=...|... or family=...&given=...&birthdate=...) it first runs
// that search: no match registers the patient (201), one match answers it
// (200) and registers nothing, more than one is a 412. Kept are the first
// name (family, two given names), birthDate, gender, a home and a mobile
// phone, an email, the first address (two lines, city, postal code) and a
// Medicare number; the answer shows what was.
func (s *Site) CreatePatient(ctx context.Context, body []byte, ifNoneExist, executionID string) (Result, error) {
	if err := s.supports("Patient", Create); err != nil {
		return Result{}, err
	}
	p, err := parsePatient(body)
	if err != nil {
		return Result{}, err
	}
	if ifNoneExist != "" {
		found, err := s.existing(ctx, ifNoneExist)
		if err != nil {
			return Result{}, err
		}
		if found != nil {
			return *found, nil
		}
	}
	id, err := s.run(ctx, s.writes.AddPatient(s.engine, p), executionID)
	if err != nil {
		return Result{}, err
	}
	if id == 0 {
		return Result{}, fmt.Errorf("fhirwrite: the practice system registered no patient")
	}
	return s.readBack(ctx, http.StatusCreated, "Patient", id)
}

// existing runs a conditional create's search: the one patient it finds,
// nil for none, a 412 for more.
func (s *Site) existing(ctx context.Context, ifNoneExist string) (*Result, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(ifNoneExist, "Patient?"))
	if err != nil || len(q) == 0 {
		return nil, invalid("If-None-Exist must be a Patient search, such as identifier=%s|{number} or family=...&given=...&birthdate=...", medicareSystem)
	}
	for _, k := range []string{"_count", "_sort", "_include", "_revinclude", "_summary", "_elements", "_total"} {
		if q.Has(k) {
			return nil, invalid("If-None-Exist: %s is not a search criterion", k)
		}
	}
	q.Set("_count", "2")
	res, err := s.read.Resource("Patient")
	if err != nil {
		return nil, err
	}
	var found []mappings.Row
	if err := s.scan(ctx, res, q, func(r mappings.Row) error {
		found = append(found, r)
		return nil
	}); err != nil {
		if fe, ok := errors.AsType[*fhir.Error](err); ok && fe.Status == http.StatusBadRequest {
			return nil, invalid("If-None-Exist: %s", fe.Diagnostics)
		}
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &Result{Status: http.StatusOK, Type: "Patient", ID: found[0].ID, Resource: found[0].Resource, Version: ETag(found[0].Resource)}, nil
	}
	return nil, fhir.Errorf(http.StatusPreconditionFailed, fhir.IssueDuplicate,
		"If-None-Exist matches more than one patient: nothing was registered; narrow the criteria (an identifier)")
}

// parsePatient decodes and checks a new patient.
func parsePatient(body []byte) (mappings.NewPatient, error) {
	var p mappings.NewPatient
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return p, invalid("the body is not JSON: %v", err)
	}
	if head.ResourceType != "Patient" {
		return p, invalid("the body must be a Patient resource, not %q", head.ResourceType)
	}
	r, err := fm.UnmarshalPatient(body)
	if err != nil {
		return p, invalid("the Patient is not valid FHIR R4 JSON: %v", err)
	}
	if len(r.Name) == 0 || r.Name[0].Family == nil || strings.TrimSpace(*r.Name[0].Family) == "" {
		return p, unprocessable("Patient.name.family: a new patient needs a family name")
	}
	n := r.Name[0]
	p.Family = strings.TrimSpace(*n.Family)
	if len(n.Given) > 0 {
		p.Given = strings.TrimSpace(n.Given[0])
	}
	if len(n.Given) > 1 {
		p.Middle = strings.TrimSpace(strings.Join(n.Given[1:], " "))
	}
	if r.BirthDate != nil {
		if p.BirthDate, err = time.Parse(time.DateOnly, *r.BirthDate); err != nil {
			return p, unprocessable("Patient.birthDate: the practice system needs a whole date (YYYY-MM-DD), not %q", *r.BirthDate)
		}
		if p.BirthDate.After(time.Now()) {
			return p, unprocessable("Patient.birthDate: %s is in the future", *r.BirthDate)
		}
	}
	if r.Gender != nil && *r.Gender != fm.AdministrativeGenderUnknown {
		p.Gender = r.Gender.Code()
	}
	for _, t := range r.Telecom {
		if t.Value == nil || t.System == nil {
			continue
		}
		switch {
		case *t.System == fm.ContactPointSystemEmail && p.Email == "":
			p.Email = *t.Value
		case *t.System == fm.ContactPointSystemPhone && t.Use != nil && *t.Use == fm.ContactPointUseMobile && p.MobilePhone == "":
			p.MobilePhone = *t.Value
		case *t.System == fm.ContactPointSystemPhone && p.HomePhone == "":
			p.HomePhone = *t.Value
		}
	}
	if len(r.Address) > 0 {
		a := r.Address[0]
		if len(a.Line) > 0 {
			p.Line1 = a.Line[0]
		}
		if len(a.Line) > 1 {
			p.Line2 = strings.Join(a.Line[1:], ", ")
		}
		if a.City != nil {
			p.City = *a.City
		}
		if a.PostalCode != nil {
			if !postcodeRE.MatchString(*a.PostalCode) {
				return p, unprocessable("Patient.address.postalCode: an Australian postcode has 4 digits, not %q", *a.PostalCode)
			}
			p.Postcode = *a.PostalCode
		}
	}
	for i, id := range r.Identifier {
		if id.System == nil || *id.System != medicareSystem || id.Value == nil {
			continue
		}
		v := strings.ReplaceAll(*id.Value, " ", "")
		if !medicareRE.MatchString(v) || !mappings.ValidMedicare(v[:10]) {
			return p, unprocessable("Patient.identifier[%d]: %q is not a Medicare card number (10 digits with a valid check digit, and the IRN as an 11th)", i, *id.Value)
		}
		p.Medicare, p.MedicareIRN = v[:10], v[10:]
	}
	for _, l := range patientLimits {
		if v := l.get(&p); len([]rune(v)) > l.max {
			return p, unprocessable("%s: the practice system keeps at most %d characters", l.elem, l.max)
		}
	}
	return p, nil
}
