package bpsynth

// Code values of the synthetic database, all in this one file.
//
// "seen" values come from public integration code that reads Bp Premier (see the reference
// notes); every other number here is an ASSUMPTION made for this synthetic database. Mappings
// should keep their own copy of these numbers in one place, so that when real values are
// confirmed only that place changes.

// APPOINTMENTCODES.APPOINTMENTCODE (the appointment's status; BPS_Appointments.Status shows the
// DESCRIPTION). The list and its order come from one unofficial source; the numbers (0-based,
// in list order) are an assumption.
const (
	ApptUnavailable = 0 // a blocked slot, INTERNALID = 0
	ApptBooked      = 1
	ApptWaiting     = 2 // arrived, in the waiting room
	ApptWithDoctor  = 3
	ApptAtBilling   = 4
	ApptCompleted   = 5
	ApptDNA         = 6 // did not attend
	ApptReserved    = 7
	ApptInvoiced    = 8
	ApptPaid        = 9
)

// appointmentCodes are the APPOINTMENTCODES rows (DESCRIPTION char(20)).
var appointmentCodes = []codeText{
	{ApptUnavailable, "Unavailable"},
	{ApptBooked, "Booked"},
	{ApptWaiting, "Waiting"},
	{ApptWithDoctor, "With doctor"},
	{ApptAtBilling, "At billing"},
	{ApptCompleted, "Completed"},
	{ApptDNA, "DNA"},
	{ApptReserved, "Reserved"},
	{ApptInvoiced, "Invoiced"},
	{ApptPaid, "Paid"},
}

// RECORDSTATUS: 1 = live row (seen). Deleted rows (patients, cancelled appointments, ...) are
// written with 0 here (assumption: Bp's value for a deleted row is not public).
const (
	RecordLive    = 1
	RecordDeleted = 0
)

// PATIENTSTATUS (STATUSCODE, STATUSTEXT char(12)); 1 'Active' is seen, the rest assumed.
const (
	PatientActive   = 1
	PatientInactive = 2
	PatientDeceased = 3
)

var patientStatuses = []codeText{{PatientActive, "Active"}, {PatientInactive, "Inactive"}, {PatientDeceased, "Deceased"}}

// SEX (SEXCODE, SEX char(10)). Texts 'Male'/'Female' are seen; the numbers are assumed, with 0
// as "Not stated" because integrators default SEXCODE to 0.
const (
	SexNotStated = 0
	SexMale      = 1
	SexFemale    = 2
	SexOther     = 3
)

var sexes = []codeText{{SexNotStated, "Not stated"}, {SexMale, "Male"}, {SexFemale, "Female"}, {SexOther, "Other"}}

// TITLES (TITLECODE, TITLE char(30)); assumed numbering.
const (
	TitleNone   = 0
	TitleMr     = 1
	TitleMrs    = 2
	TitleMiss   = 3
	TitleMs     = 4
	TitleDr     = 5
	TitleMaster = 6
	TitleProf   = 7
	TitleMx     = 8
)

var titles = []codeText{{TitleNone, ""}, {TitleMr, "Mr"}, {TitleMrs, "Mrs"}, {TitleMiss, "Miss"}, {TitleMs, "Ms"},
	{TitleDr, "Dr"}, {TitleMaster, "Master"}, {TitleProf, "Prof"}, {TitleMx, "Mx"}}

// USERGROUPS (GROUPCODE, GROUPNAME char(60), AU, NZ); assumed.
const (
	GroupPrincipal    = 1
	GroupDoctor       = 2
	GroupRegistrar    = 3
	GroupNurse        = 4
	GroupReceptionist = 5
	GroupManager      = 6
)

var userGroups = []codeText{{GroupPrincipal, "Principal doctor"}, {GroupDoctor, "Doctor"}, {GroupRegistrar, "Registrar"},
	{GroupNurse, "Nurse"}, {GroupReceptionist, "Receptionist"}, {GroupManager, "Practice manager"}}

// USERS.USERSTATUS: 1 active, 2 inactive, 999 deleted (partly unverified).
const (
	UserActive   = 1
	UserInactive = 2
	UserDeleted  = 999
)

// DAYOFWEEK (DAYCODE, DAY char(20)): 1 = Sunday ... 7 = Saturday, the convention of SQL
// Server's DATEPART(weekday) with the default DATEFIRST and of Delphi (assumed).
var daysOfWeek = []codeText{{1, "Sunday"}, {2, "Monday"}, {3, "Tuesday"}, {4, "Wednesday"}, {5, "Thursday"}, {6, "Friday"}, {7, "Saturday"}}

// YESNO (YESNOCODE, YESNOWORD char(5)): 0 No, 1 Yes (texts seen). YESNOUNKNOWN adds 2 Unknown
// (assumed).
var (
	yesNo        = []codeText{{0, "No"}, {1, "Yes"}}
	yesNoUnknown = []codeText{{0, "No"}, {1, "Yes"}, {2, "Unknown"}}
)

// SEVERITYCODES (SEVERITYCODE, SEVERITY char(20)); 0 is blank ("not specified"); assumed.
var severities = []codeText{{0, ""}, {1, "Mild"}, {2, "Moderate"}, {3, "Severe"}}

// VISITTYPE (VISITCODE, VISITTYPE char(20)): the names are seen, and so are 1 = Surgery and
// 12 = Non Visit; the other numbers are assumed.
const (
	VisitSurgery    = 1
	VisitHome       = 2
	VisitHospital   = 3
	VisitRACF       = 4
	VisitTelephone  = 5
	VisitNonVisit   = 12
	VisitTelehealth = 13
)

var visitTypes = []codeText{{1, "Surgery"}, {2, "Home"}, {3, "Hospital"}, {4, "RACF"}, {5, "Telephone"}, {6, "SMS"},
	{7, "Email"}, {8, "Locum Service"}, {9, "Out of Office"}, {10, "Other"}, {11, "Hostel"}, {12, "Non Visit"}, {13, "Telehealth"}}

// MARITALSTATUS (MARITALSTATUSCODE, MARITALSTATUSNAME char(15)); assumed.
var maritalStatuses = []codeText{{0, ""}, {1, "Single"}, {2, "Married"}, {3, "De facto"}, {4, "Separated"}, {5, "Divorced"}, {6, "Widowed"}}

// SEXUALITY (SEXUALITYCODE, SEXUALITYNAME char(15)); assumed.
var sexualities = []codeText{{0, ""}, {1, "Heterosexual"}, {2, "Gay or lesbian"}, {3, "Bisexual"}, {4, "Other"}}

// SMOKINGSTATUS (SMOKINGCODE, SMOKINGTEXT char(12)): codes seen, texts assumed.
var smokingStatuses = []codeText{{0, "Not recorded"}, {1, "Non smoker"}, {2, "Ex smoker"}, {3, "Smoker"}}

// ALCOHOLSTATUS (ALCOHOLCODE, ALCOHOLTEXT char(12)): codes seen, texts assumed.
var alcoholStatuses = []codeText{{0, "Not recorded"}, {1, "Nil"}, {2, "Occasional"}, {3, "Moderate"}, {4, "Heavy"}}

// DVATYPE (DVACODE, DVATYPE char(10)): card colours; numbers assumed.
const (
	DVAGold   = 1
	DVAWhite  = 2
	DVAOrange = 3
)

var dvaTypes = []codeText{{0, ""}, {DVAGold, "Gold"}, {DVAWhite, "White"}, {DVAOrange, "Orange"}}

// PENSIONTYPE (PENSIONCODE, PENSIONTYPE char(40)): concession card types; numbers assumed.
var pensionTypes = []codeText{{0, ""}, {1, "Pensioner Concession Card"}, {2, "Health Care Card"},
	{3, "Commonwealth Seniors Health Card"}}

// ETHNICITY (ETHNICCODE, ETHNICTYPE char(50), ...): Indigenous status as in the ABS standard;
// codes assumed.
var ethnicities = []codeText{{0, "Not stated"}, {1, "Aboriginal"}, {2, "Torres Strait Islander"},
	{3, "Aboriginal and Torres Strait Islander"}, {4, "Neither Aboriginal nor Torres Strait Islander"}}

// CLINICAL.KNOWNALLERGIES (seen): 0 not recorded, 1 nil known, 2 some recorded.
const (
	AllergiesNotRecorded = 0
	AllergiesNilKnown    = 1
	AllergiesRecorded    = 2
)

// REACTIONS.ITEMTYPE (seen): 1 product, 2 ingredient, 3 drug class.
const (
	ReactionProduct    = 1
	ReactionIngredient = 2
	ReactionClass      = 3
)

// CURRENTRX.RXSTATUS (seen): 1 long-term, 2 short-term.
const (
	RxLongTerm  = 1
	RxShortTerm = 2
)

// PASTHISTORY.STATUSCODE (BPS_History.Status: assumed 1 Active, 2 Inactive) and LOCATIONCODE
// (BPS_History.Side: assumed 1 Left, 2 Right, 3 Bilateral).
const (
	HistoryActive   = 1
	HistoryInactive = 2
	SideLeft        = 1
	SideRight       = 2
	SideBilateral   = 3
)

// OBSERVATIONS.DATACODE (seen): BPS_Observations.ObservationCode.
const (
	ObsTemperature = 1
	ObsPulse       = 2
	ObsSystolic    = 3
	ObsDiastolic   = 4
	ObsBSL         = 6
	ObsHeight      = 7
	ObsWeight      = 8
	ObsBMI         = 9
	ObsHeadCirc    = 10
	ObsWaist       = 17
)

// observationNames is OBSERVATIONS.DATANAME for each DATACODE (names assumed).
var observationNames = map[int]string{
	ObsTemperature: "Temperature", ObsPulse: "Pulse", ObsSystolic: "Systolic BP", ObsDiastolic: "Diastolic BP",
	ObsBSL: "BSL", ObsHeight: "Height", ObsWeight: "Weight", ObsBMI: "BMI", ObsHeadCirc: "Head circumference",
	ObsWaist: "Waist",
}

// REPORTVALUES.BPCODE (seen).
const (
	BPHbA1c         = 1
	BPCholesterol   = 2
	BPHDL           = 3
	BPLDL           = 4
	BPTriglycerides = 5
	BPCreatinine    = 6
	BPINR           = 12
	BPGlucose       = 14
	BPeGFR          = 16
	BPACR           = 17
	BPHbA1cSI       = 19
)

// IMMUNISATIONS.NOTGIVENHERE (seen): 0 given at the practice, 1 given elsewhere.
const (
	GivenHere      = 0
	GivenElsewhere = 1
)

// Appointment types (APPOINTMENTTYPES; the key column is APPOINTMENTCODE, referenced by
// APPOINTMENTS.APPOINTMENTTYPE). Names and lengths are assumptions of a typical practice.
const (
	TypeStandard = iota + 1
	TypeLong
	TypeNewPatient
	TypeTelehealth
	TypeTelephone
	TypeProcedure
	TypeImmunisation
	TypeCarePlan
	TypeHealthAssessment
)

type apptType struct {
	code   int
	name   string
	length int // seconds
}

var appointmentTypes = []apptType{
	{TypeStandard, "Standard", 900},
	{TypeLong, "Long", 1800},
	{TypeNewPatient, "New patient", 1800},
	{TypeTelehealth, "Telehealth", 900},
	{TypeTelephone, "Telephone consult", 900},
	{TypeProcedure, "Procedure", 1800},
	{TypeImmunisation, "Immunisation", 600},
	{TypeCarePlan, "Care plan", 1800},
	{TypeHealthAssessment, "Health assessment", 2700},
}

// cancellationReasons are CANCELLATIONREASONS.REASON, REASONCODE 1.. in this order (assumed).
var cancellationReasons = []string{"Patient cancelled", "Patient unwell", "Doctor unavailable", "Rebooked",
	"No longer required", "Transport problem", "Booked in error", "Work commitments"}

// codeText is one row of a code list.
type codeText struct {
	code int
	text string
}

// writeLookups fills the code-list tables.
func (g *gen) writeLookups() {
	simple := []struct {
		table, codeCol, textCol string
		rows                    []codeText
	}{
		{"TITLES", "TITLECODE", "TITLE", titles},
		{"SEX", "SEXCODE", "SEX", sexes},
		{"PATIENTSTATUS", "STATUSCODE", "STATUSTEXT", patientStatuses},
		{"DAYOFWEEK", "DAYCODE", "DAY", daysOfWeek},
		{"YESNO", "YESNOCODE", "YESNOWORD", yesNo},
		{"YESNOUNKNOWN", "YESNOCODE", "YESNOWORD", yesNoUnknown},
		{"SEVERITYCODES", "SEVERITYCODE", "SEVERITY", severities},
		{"VISITTYPE", "VISITCODE", "VISITTYPE", visitTypes},
		{"MARITALSTATUS", "MARITALSTATUSCODE", "MARITALSTATUSNAME", maritalStatuses},
		{"SEXUALITY", "SEXUALITYCODE", "SEXUALITYNAME", sexualities},
		{"SMOKINGSTATUS", "SMOKINGCODE", "SMOKINGTEXT", smokingStatuses},
		{"ALCOHOLSTATUS", "ALCOHOLCODE", "ALCOHOLTEXT", alcoholStatuses},
		{"DVATYPE", "DVACODE", "DVATYPE", dvaTypes},
		{"PENSIONTYPE", "PENSIONCODE", "PENSIONTYPE", pensionTypes},
		{"APPOINTMENTCODES", "APPOINTMENTCODE", "DESCRIPTION", appointmentCodes},
	}
	for _, s := range simple {
		in := g.w.table(s.table)
		for _, r := range s.rows {
			in.row().set(s.codeCol, r.code).set(s.textCol, r.text).done()
		}
	}
	in := g.w.table("USERGROUPS")
	for _, r := range userGroups {
		in.row().set("GROUPCODE", r.code).set("GROUPNAME", r.text).set("AU", 1).set("NZ", 1).done()
	}
	in = g.w.table("ETHNICITY")
	for _, r := range ethnicities {
		in.row().set("ETHNICCODE", r.code).set("ETHNICTYPE", r.text).done()
	}
	in = g.w.table("APPOINTMENTTYPES")
	for i, t := range appointmentTypes {
		in.row().set("APPOINTMENTCODE", t.code).set("RECORDSTATUS", RecordLive).set("LISTORDER", i+1).
			set("APPOINTMENTLENGTH", t.length).set("DESCRIPTION", t.name).set("AU", 1).
			set("CREATED", g.setupDate).set("CREATEDBY", 1).done()
	}
	in = g.w.table("CANCELLATIONREASONS")
	for i, r := range cancellationReasons {
		in.row().set("REASONCODE", i+1).set("RECORDSTATUS", RecordLive).set("REASON", r).done()
	}
	in = g.w.table("SYN_CONDITIONS")
	for _, c := range conditionCatalogue {
		in.row().set("ITEMCODE", c.itemCode).set("ITEMTEXT", c.name).set("SNOMED", c.snomed).done()
	}
	in = g.w.table("SYN_FREQUENCY")
	for _, f := range frequencies {
		in.row().set("FREQUENCYCODE", f.code).set("FREQUENCYTEXT", f.text).set("DOSESPERDAY", f.perDay).done()
	}
	in = g.w.table("SYN_FOOD")
	for _, f := range foods {
		in.row().set("FOODCODE", f.code).set("FOODTEXT", f.text).done()
	}
	in = g.w.table("SYN_OTHERDETAIL")
	for _, f := range otherDetails {
		in.row().set("OTHERDETAILCODE", f.code).set("OTHERDETAILTEXT", f.text).done()
	}
}
