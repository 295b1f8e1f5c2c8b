package mappings

import (
	"strings"
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

// Coding is a FHIR Coding.
type Coding struct{ System, Code, Display string }

// Coding writes the Coding member key; nothing without a code.
func (w *JSON) Coding(key string, c Coding) {
	if c.Code == "" {
		return
	}
	w.Object(key)
	w.String("system", c.System)
	w.String("code", c.Code)
	w.String("display", c.Display)
	w.End()
}

// Concept writes the CodeableConcept member key: its codings and its text
// (trimmed); nothing when it has neither.
func (w *JSON) Concept(key, text string, codings ...Coding) {
	w.Object(key)
	w.Array("coding")
	for _, c := range codings {
		w.Coding("", c)
	}
	w.End()
	w.String("text", strings.TrimSpace(text))
	w.End()
}

// Identifier is a FHIR Identifier: its type a coding and a text, its
// period an end alone and its assigner a display alone, as fhirlink's
// identifiers have them.
type Identifier struct {
	Use       string
	Type      Coding
	TypeText  string
	System    string
	Value     string
	PeriodEnd string
	Assigner  string
}

// Identifier writes the Identifier member key.
func (w *JSON) Identifier(key string, id Identifier) {
	w.Object(key)
	w.String("use", id.Use)
	w.Concept("type", id.TypeText, id.Type)
	w.String("system", id.System)
	w.String("value", id.Value)
	w.Object("period")
	w.String("end", id.PeriodEnd)
	w.End()
	w.Object("assigner")
	w.String("display", id.Assigner)
	w.End()
	w.End()
}

func identifier(system, value string, typ Coding, text string) Identifier {
	return Identifier{Type: typ, TypeText: text, System: system, Value: value}
}

// IHI is an Individual Healthcare Identifier.
func IHI(value string) Identifier {
	return identifier(SystemIHI, value, Coding{CodeSystemV2IdentifierType, "NI", "National unique individual identifier"}, "IHI")
}

// HPII is a Healthcare Provider Identifier – Individual.
func HPII(value string) Identifier {
	return identifier(SystemHPII, value, Coding{CodeSystemV2IdentifierType, "NPI", "National provider identifier"}, "HPI-I")
}

// HPIO is a Healthcare Provider Identifier – Organisation.
func HPIO(value string) Identifier {
	return identifier(SystemHPIO, value, Coding{CodeSystemAUIdentifierType, "NOI", "National Organisation Identifier"}, "HPI-O")
}

// AHPRA is an Ahpra registration number.
func AHPRA(value string) Identifier {
	return identifier(SystemAHPRA, value, Coding{CodeSystemAUIdentifierType, "AHPRA",
		"Australian Health Practitioner Regulation Agency Registration Number"}, "Ahpra Registration Number")
}

// ProviderNumber is a Medicare provider number.
func ProviderNumber(value string) Identifier {
	return identifier(SystemProviderNumber, value, Coding{CodeSystemAUIdentifierType, "UPIN", "Medicare Provider Number"}, "Medicare Provider Number")
}

// PrescriberNumber is a PBS prescriber number.
func PrescriberNumber(value string) Identifier {
	return identifier(SystemPrescriberNumber, value, Coding{CodeSystemAUIdentifierType, "PRES", "Prescriber Number"}, "PBS Prescriber Number")
}

// ABN is an Australian Business Number, given in any spacing; ok is false
// when it is not 11 digits.
func ABN(value string) (Identifier, bool) {
	v := Digits(value)
	if len(v) != 11 || len(v) != len(strings.Join(strings.Fields(value), "")) {
		return Identifier{}, false
	}
	return identifier(SystemABN, v, Coding{CodeSystemV2IdentifierType, "XX", "Organization identifier"}, "ABN"), true
}

// Medicare is a Medicare card number: the 10-digit card number with the
// individual reference number (IRN, 1-9) appended when there is one, and
// the card's expiry (as PMSs store it: MM/YYYY, MM/YY, DD/MM/YYYY or
// YYYY-MM-DD) as the period end when it can be read. ok is false when the
// number is not 10 digits.
func Medicare(number, irn, expiry string) (id Identifier, ok bool) {
	n := strings.ReplaceAll(number, " ", "")
	if len(n) != 10 || Digits(n) != n {
		return Identifier{}, false
	}
	if irn = strings.TrimSpace(irn); len(irn) == 1 && irn >= "1" && irn <= "9" {
		n += irn
	}
	id = identifier(SystemMedicare, n, Coding{CodeSystemV2IdentifierType, "MC", "Patient's Medicare number"}, "Medicare Number")
	id.PeriodEnd = MedicareExpiry(expiry)
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
func DVA(value, card string) Identifier {
	code, display := "DVAU", "DVA Number"
	if t, ok := dvaTypes[strings.ToLower(strings.TrimSpace(card))]; ok {
		code, display = t[0], t[1]
	}
	return identifier(SystemDVA, value, Coding{CodeSystemAUIdentifierType, code, display}, "DVA Number")
}

// RecordNumber is the practice's own record number (MRN) for a patient, in
// the namespace scoped by the practice's HPI-O, else its ABN; fallback is
// the system used when the practice has neither. assigner names the
// practice.
func RecordNumber(value, hpio, abn, fallback, assigner string) Identifier {
	system := fallback
	switch scope := PracticeScope(hpio, abn); len(scope) {
	case 16:
		system = SystemHPIOScopedRecord + "/" + scope
	case 11:
		system = SystemABNScopedRecord + "/" + scope
	}
	id := identifier(system, value, Coding{CodeSystemV2IdentifierType, "MR", "Medical record number"}, "Medical Record Number")
	id.Use = "usual"
	id.Assigner = assigner
	return id
}

// InternalID is the PMS's own key for a patient (AU Base's patient
// internal identifier, type PI), so that every patient has an identifier
// even without IHI, Medicare or record number. assigner names the practice.
func InternalID(system, value, assigner string) Identifier {
	id := identifier(system, value, Coding{CodeSystemV2IdentifierType, "PI", "Patient internal identifier"}, "Patient Internal Identifier")
	id.Assigner = assigner
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

// Address writes, as the member key, an Australian address (use and
// type as FHIR codes them) with its state derived from the postcode; nothing
// when every part is blank.
func (w *JSON) Address(key, use, typ string, lines []string, city, postcode string) {
	city, postcode = strings.TrimSpace(city), strings.TrimSpace(postcode)
	empty := city == "" && postcode == ""
	for _, l := range lines {
		empty = empty && strings.TrimSpace(l) == ""
	}
	if empty {
		return
	}
	w.Object(key)
	w.String("use", use)
	w.String("type", typ)
	w.Array("line")
	for _, l := range lines {
		w.String("", strings.TrimSpace(l))
	}
	w.End()
	w.String("city", city)
	state := StateOfPostcode(postcode)
	w.String("state", state)
	w.String("postalCode", postcode)
	if state != "" {
		w.String("country", "AU")
	}
	w.End()
}

// Telecom writes a ContactPoint (system and use as FHIR codes them) into
// the open array, unless value is blank.
func (w *JSON) Telecom(system, use, value string) {
	if value = strings.TrimSpace(value); value == "" {
		return
	}
	w.Object("")
	w.String("system", system)
	w.String("value", value)
	w.String("use", use)
	w.End()
}

// Ref writes the Reference member key to Type/id, with its display the
// non-blank parts of display joined as PersonName joins them (none when
// every part is blank).
func (w *JSON) Ref(key, typ, id string, display ...string) {
	w.Object(key)
	w.Joined("reference", typ, "/", id)
	w.Words("display", display...)
	w.End()
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
