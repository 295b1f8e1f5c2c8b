package mappings

import (
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Australian identifiers and datatypes as AU Base profiles them, shared by
// every PMS mapping.

// Identifier systems (AU Base).
const (
	SystemIHI              = "http://ns.electronichealth.net.au/id/hi/ihi/1.0"
	SystemHPII             = "http://ns.electronichealth.net.au/id/hi/hpii/1.0"
	SystemHPIO             = "http://ns.electronichealth.net.au/id/hi/hpio/1.0"
	SystemMedicare         = "http://ns.electronichealth.net.au/id/medicare-number"
	SystemDVA              = "http://ns.electronichealth.net.au/id/dva"
	SystemProviderNumber   = "http://ns.electronichealth.net.au/id/medicare-provider-number"
	SystemPrescriberNumber = "http://ns.electronichealth.net.au/id/medicare-prescriber-number"
	SystemAHPRA            = "http://hl7.org.au/id/ahpra-registration-number"
	SystemABN              = "http://hl7.org.au/id/abn"
	// Record numbers are scoped by the practice's HPI-O or, without one,
	// its ABN: the system is the namespace, "/" and that identifier.
	SystemHPIOScopedRecord = "http://ns.electronichealth.net.au/id/hpio-scoped/medicalrecord/1.0"
	SystemABNScopedRecord  = "http://ns.electronichealth.net.au/id/abn-scoped/medicalrecord/1.0"
)

// Code systems.
const (
	CodeSystemV2IdentifierType     = "http://terminology.hl7.org/CodeSystem/v2-0203"
	CodeSystemAUIdentifierType     = "http://terminology.hl7.org.au/CodeSystem/v2-0203"
	CodeSystemSNOMED               = "http://snomed.info/sct"
	CodeSystemANZSCO               = "http://www.abs.gov.au/ausstats/abs@.nsf/mf/1220.0"
	CodeSystemIndigenousStatus     = "https://healthterminologies.gov.au/fhir/CodeSystem/australian-indigenous-status-1"
	CodeSystemDataAbsentReason     = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
	CodeSystemOrganizationType     = "http://terminology.hl7.org/CodeSystem/organization-type"
	ExtensionIndigenousStatus      = "http://hl7.org.au/fhir/StructureDefinition/indigenous-status"
	ExtensionDataAbsentReason      = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
	AdministrativeGenderCodeSystem = "http://hl7.org/fhir/administrative-gender"
)

// AU Core 2.0 profiles.
const (
	ProfilePatient          = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-patient"
	ProfilePractitioner     = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-practitioner"
	ProfilePractitionerRole = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-practitionerrole"
	ProfileOrganization     = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-organization"
	ProfileLocation         = "http://hl7.org.au/fhir/core/StructureDefinition/au-core-location"
)

// Ptr returns a pointer to v, for the optional fields of FHIR structs.
func Ptr[T any](v T) *T { return &v }

// Concept is a CodeableConcept of one coding, with text.
func Concept(system, code, display, text string) *fm.CodeableConcept {
	c := fm.Coding{System: Ptr(system), Code: Ptr(code)}
	if display != "" {
		c.Display = Ptr(display)
	}
	cc := &fm.CodeableConcept{Coding: []fm.Coding{c}}
	if text != "" {
		cc.Text = Ptr(text)
	}
	return cc
}

func identifier(system, value string, typ *fm.CodeableConcept) fm.Identifier {
	return fm.Identifier{Type: typ, System: Ptr(system), Value: Ptr(value)}
}

// IHI is an Individual Healthcare Identifier.
func IHI(value string) fm.Identifier {
	return identifier(SystemIHI, value, Concept(CodeSystemV2IdentifierType, "NI", "National unique individual identifier", "IHI"))
}

// HPII is a Healthcare Provider Identifier – Individual.
func HPII(value string) fm.Identifier {
	return identifier(SystemHPII, value, Concept(CodeSystemV2IdentifierType, "NPI", "National provider identifier", "HPI-I"))
}

// HPIO is a Healthcare Provider Identifier – Organisation.
func HPIO(value string) fm.Identifier {
	return identifier(SystemHPIO, value, Concept(CodeSystemAUIdentifierType, "NOI", "National Organisation Identifier", "HPI-O"))
}

// AHPRA is an Ahpra registration number.
func AHPRA(value string) fm.Identifier {
	return identifier(SystemAHPRA, value, Concept(CodeSystemAUIdentifierType, "AHPRA",
		"Australian Health Practitioner Regulation Agency Registration Number", "Ahpra Registration Number"))
}

// ProviderNumber is a Medicare provider number.
func ProviderNumber(value string) fm.Identifier {
	return identifier(SystemProviderNumber, value, Concept(CodeSystemAUIdentifierType, "UPIN", "Medicare Provider Number", "Medicare Provider Number"))
}

// PrescriberNumber is a PBS prescriber number.
func PrescriberNumber(value string) fm.Identifier {
	return identifier(SystemPrescriberNumber, value, Concept(CodeSystemAUIdentifierType, "PRES", "Prescriber Number", "PBS Prescriber Number"))
}

// ABN is an Australian Business Number, given in any spacing; "" when it is
// not 11 digits.
func ABN(value string) (fm.Identifier, bool) {
	v := Digits(value)
	if len(v) != 11 || len(v) != len(strings.Join(strings.Fields(value), "")) {
		return fm.Identifier{}, false
	}
	return identifier(SystemABN, v, Concept(CodeSystemV2IdentifierType, "XX", "Organization identifier", "ABN")), true
}

// Medicare is a Medicare card number: the 10-digit card number with the
// individual reference number (IRN, 1-9) appended when there is one, and
// the card's expiry (as PMSs store it: MM/YYYY, MM/YY, DD/MM/YYYY or
// YYYY-MM-DD) as the period end when it can be read. ok is false when the
// number is not 10 digits.
func Medicare(number, irn, expiry string) (id fm.Identifier, ok bool) {
	n := strings.ReplaceAll(number, " ", "")
	if len(n) != 10 || Digits(n) != n {
		return fm.Identifier{}, false
	}
	if irn = strings.TrimSpace(irn); len(irn) == 1 && irn >= "1" && irn <= "9" {
		n += irn
	}
	id = identifier(SystemMedicare, n, Concept(CodeSystemV2IdentifierType, "MC", "Patient's Medicare number", "Medicare Number"))
	if end := MedicareExpiry(expiry); end != "" {
		id.Period = &fm.Period{End: Ptr(end)}
	}
	return id, true
}

// ValidMedicare reports whether n is a Medicare card number: 10 digits,
// the first 2 to 6, the 9th the check digit of the first 8 (weights 1, 3,
// 7, 9, 1, 3, 7, 9, modulo 10).
func ValidMedicare(n string) bool {
	if len(n) != 10 || Digits(n) != n || n[0] < '2' || n[0] > '6' {
		return false
	}
	sum := 0
	for i, w := range []int{1, 3, 7, 9, 1, 3, 7, 9} {
		sum += int(n[i]-'0') * w
	}
	return sum%10 == int(n[8]-'0')
}

// MedicareExpiry reads a card expiry as a FHIR dateTime (YYYY-MM, or
// YYYY-MM-DD for temporary cards); "" when it cannot be read.
func MedicareExpiry(s string) string {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "/")
	ok := func(v string, n int) bool { return len(v) == n && Digits(v) == v }
	month := func(m string) bool { return m >= "01" && m <= "12" }
	day := func(d string) bool { return d >= "01" && d <= "31" }
	switch {
	case len(parts) == 2 && ok(parts[0], 2) && ok(parts[1], 4) && month(parts[0]):
		return parts[1] + "-" + parts[0]
	case len(parts) == 2 && ok(parts[0], 2) && ok(parts[1], 2) && month(parts[0]):
		return "20" + parts[1] + "-" + parts[0]
	case len(parts) == 3 && ok(parts[0], 2) && ok(parts[1], 2) && ok(parts[2], 4) && day(parts[0]) && month(parts[1]):
		return parts[2] + "-" + parts[1] + "-" + parts[0]
	case len(s) == 10 && s[4] == '-' && s[7] == '-' && ok(s[:4], 4) && ok(s[5:7], 2) && ok(s[8:], 2) && month(s[5:7]) && day(s[8:]):
		return s
	}
	return ""
}

// DVA card colours and their AU Base identifier type codes.
var dvaTypes = map[string][2]string{
	"gold":   {"DVG", "DVA Number (Gold Card)"},
	"white":  {"DVW", "DVA Number (White Card)"},
	"orange": {"DVO", "DVA Number (Orange Card)"},
	"lilac":  {"DVL", "DVA Number (Lilac Card)"},
}

// DVA is a Department of Veterans' Affairs file number; card is the card's
// colour as the PMS names it (Gold, White, Orange, Lilac) or "" when
// unknown, which gives the unspecified entitlement type.
func DVA(value, card string) fm.Identifier {
	code, display := "DVAU", "DVA Number"
	if t, ok := dvaTypes[strings.ToLower(strings.TrimSpace(card))]; ok {
		code, display = t[0], t[1]
	}
	return identifier(SystemDVA, value, Concept(CodeSystemAUIdentifierType, code, display, "DVA Number"))
}

// RecordNumber is the practice's own record number (MRN) for a patient, in
// the namespace scoped by the practice's HPI-O, else its ABN; fallback is
// the system used when the practice has neither. assigner names the
// practice.
func RecordNumber(value, hpio, abn, fallback, assigner string) fm.Identifier {
	system := fallback
	switch scope := PracticeScope(hpio, abn); len(scope) {
	case 16:
		system = SystemHPIOScopedRecord + "/" + scope
	case 11:
		system = SystemABNScopedRecord + "/" + scope
	}
	id := identifier(system, value, Concept(CodeSystemV2IdentifierType, "MR", "Medical record number", "Medical Record Number"))
	id.Use = Ptr(fm.IdentifierUseUsual)
	if assigner != "" {
		id.Assigner = &fm.Reference{Display: Ptr(assigner)}
	}
	return id
}

// InternalID is the PMS's own key for a patient (AU Base's patient
// internal identifier, type PI), so that every patient has an identifier
// even without IHI, Medicare or record number. assigner names the practice.
func InternalID(system, value, assigner string) fm.Identifier {
	id := identifier(system, value, Concept(CodeSystemV2IdentifierType, "PI", "Patient internal identifier", "Patient Internal Identifier"))
	if assigner != "" {
		id.Assigner = &fm.Reference{Display: Ptr(assigner)}
	}
	return id
}

// PracticeScope is what scopes a practice's local identifiers: its HPI-O
// (16 digits) or else its ABN (11 digits); "" when it has neither.
func PracticeScope(hpio, abn string) string {
	if h := Digits(hpio); len(h) == 16 {
		return h
	}
	if a := Digits(abn); len(a) == 11 {
		return a
	}
	return ""
}

// NoSpaces is s without its white space, as identifiers are compared.
func NoSpaces(s string) string { return strings.Join(strings.Fields(s), "") }

// Digits keeps the ASCII digits of s.
func Digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// Address is an Australian address with its state derived from the
// postcode. It returns nil when every part is empty.
func Address(use fm.AddressUse, typ fm.AddressType, lines []string, city, postcode string) *fm.Address {
	a := &fm.Address{Use: Ptr(use), Type: Ptr(typ)}
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			a.Line = append(a.Line, l)
		}
	}
	if city = strings.TrimSpace(city); city != "" {
		a.City = Ptr(city)
	}
	if postcode = strings.TrimSpace(postcode); postcode != "" {
		a.PostalCode = Ptr(postcode)
		if st := StateOfPostcode(postcode); st != "" {
			a.State = Ptr(st)
			a.Country = Ptr("AU")
		}
	}
	if a.Line == nil && a.City == nil && a.PostalCode == nil {
		return nil
	}
	return a
}

// Telecom appends a contact point when value is not empty.
func Telecom(to []fm.ContactPoint, system fm.ContactPointSystem, use fm.ContactPointUse, value string) []fm.ContactPoint {
	if value = strings.TrimSpace(value); value == "" {
		return to
	}
	return append(to, fm.ContactPoint{System: Ptr(system), Use: Ptr(use), Value: Ptr(value)})
}

// Ref is a reference to Type/id with an optional display.
func Ref(typ, id, display string) *fm.Reference {
	r := &fm.Reference{Reference: Ptr(typ + "/" + id)}
	if display = strings.TrimSpace(display); display != "" {
		r.Display = Ptr(display)
	}
	return r
}

// PersonName joins the non-empty parts of a name with single spaces.
func PersonName(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
