package zedsynth

// Code values of the assumed Zedmed schema, in one place. mappings/zedmed keeps the same
// numbers in its codes.go; a test there checks that the two agree with the data.

// DOCTOR.DOCTOR_TYPE.
const (
	DoctorGP        = 1
	DoctorRegistrar = 2
	DoctorNurse     = 3
	DoctorAllied    = 4
	DoctorAdmin     = 9 // reception and management: not a practitioner
)

// PATIENT.STATUS.
const (
	PatientActive   = 1
	PatientInactive = 2
	PatientDeceased = 3
)

// PATIENT.SEX: M, F, X (another gender), U (not stated).

// PATIENT.ATSI (Indigenous status, the METeOR codes): 1 Aboriginal, 2 Torres Strait
// Islander, 3 both, 4 neither, 9 not stated.

// PATIENT.DVA_CARD: G (Gold), W (White), O (Orange).

// APPOINTMENT.STATUS.
const (
	ApptBooked    = 0
	ApptArrived   = 1 // in the waiting room
	ApptInConsult = 2
	ApptCompleted = 3
	ApptDNA       = 4 // did not attend
	ApptCancelled = 5 // the row stays, with CANCEL_REASON
	ApptBlocked   = 6 // a blocked slot: no patient
)

// SESSION_TEMPLATE.DAY_OF_WEEK: 1 Monday .. 7 Sunday (ISO 8601).

// ALLERGY.SEVERITY: 0 not recorded, 1 mild, 2 moderate, 3 severe.
// ALLERGY.CATEGORY: 1 medication, 2 food, 3 environment.

// MEASUREMENT.MEAS_TYPE and the unit VALUE_1 (and VALUE_2) are in.
const (
	MeasBP     = "BP"   // VALUE_1 systolic, VALUE_2 diastolic, mm[Hg]
	MeasPulse  = "HR"   // /min
	MeasWeight = "WT"   // kg
	MeasHeight = "HT"   // cm
	MeasBMI    = "BMI"  // kg/m2
	MeasTemp   = "TEMP" // Cel
	MeasResp   = "RR"   // /min
	MeasSpO2   = "SPO2" // %
)

// CONSULT.CONSULT_TYPE: where and how the patient was seen.
const (
	ConsultSurgery  = 1 // at the branch
	ConsultVideo    = 2 // telehealth video
	ConsultPhone    = 3 // telephone
	ConsultHome     = 4 // home visit
	ConsultAgedCare = 5 // residential aged care visit
)

// SCRIPT.STATUS: a prescription's state. The latest script of a current medicine is active;
// a medicine's earlier scripts are completed; the last script of a stopped medicine is
// ceased; a script voided after it was written is cancelled (with CANCEL_REASON).
const (
	ScriptActive    = 1
	ScriptCompleted = 2
	ScriptCeased    = 3
	ScriptCancelled = 4
)

// DELETED: 0 for a live row, 1 for a deleted one, in every table.
