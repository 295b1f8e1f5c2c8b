package zedsynth

// People, places and clinical content of the synthetic practice. The lists are this package's
// own; they include names that trip up software (O'Brien, D'Souza, Smith-Jones, Van Der Berg,
// Ng, Le) and only real suburb and postcode pairs.

var givenMale = []string{"James", "William", "Oliver", "Jack", "Noah", "Thomas", "Henry", "Lachlan",
	"Samuel", "Daniel", "Matthew", "Michael", "Peter", "Andrew", "Robert", "Geoffrey", "Trevor", "Kevin",
	"Minh", "Duc", "Rahul", "Arjun", "Wei", "Jun", "Giuseppe", "Nikos", "Ahmed", "Omar", "Liam", "Hamish"}

var givenFemale = []string{"Charlotte", "Olivia", "Amelia", "Isla", "Grace", "Sophie", "Emily", "Chloe",
	"Jessica", "Sarah", "Rebecca", "Michelle", "Karen", "Susan", "Margaret", "Helen", "Kylie", "Narelle",
	"Linh", "Mai", "Priya", "Ananya", "Mei", "Xiu", "Maria", "Eleni", "Fatima", "Aisha", "Ruby", "Matilda"}

var surnames = []string{"Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Anderson", "Thompson",
	"Walker", "Kelly", "Ryan", "Murphy", "Campbell", "Mitchell", "O'Brien", "O'Connor", "McDonald", "Smith-Jones",
	"Nguyen", "Tran", "Le", "Pham", "Ng", "Chen", "Wang", "Li", "Patel", "Singh", "Sharma", "D'Souza",
	"Rossi", "Russo", "D'Angelo", "Papadopoulos", "Van Der Berg", "De Silva", "Hassan", "Ali", "Fraser", "Hughes"}

var doctorTitles = map[int]string{DoctorGP: "Dr", DoctorRegistrar: "Dr", DoctorNurse: "", DoctorAllied: "", DoctorAdmin: ""}

// locality is a real suburb with its real postcode and state.
type locality struct{ suburb, postcode, state string }

var localities = []locality{
	{"Parramatta", "2150", "NSW"}, {"Blacktown", "2148", "NSW"}, {"Westmead", "2145", "NSW"},
	{"Baulkham Hills", "2153", "NSW"}, {"Castle Hill", "2154", "NSW"}, {"Seven Hills", "2147", "NSW"},
	{"Merrylands", "2160", "NSW"}, {"Toongabbie", "2146", "NSW"}, {"Epping", "2121", "NSW"},
	{"Ryde", "2112", "NSW"}, {"Penrith", "2750", "NSW"}, {"Liverpool", "2170", "NSW"},
	{"Queanbeyan", "2620", "NSW"}, {"Belconnen", "2617", "ACT"}, {"Footscray", "3011", "VIC"},
	{"Southport", "4215", "QLD"},
}

var streets = []string{"Church", "George", "Victoria", "Marsden", "Windsor", "Old Northern", "Pennant Hills",
	"Station", "Railway", "Wentworth", "Macquarie", "Hawkesbury", "Banksia", "Wattle", "Jacaranda"}

var streetKinds = []string{"Street", "Road", "Avenue", "Parade", "Close", "Crescent", "Way"}

var leaveReasons = []string{"Annual leave", "Conference", "Sick leave", "Study leave"}

var emailHosts = []string{"example.com", "example.net", "example.org"}

// problem is a condition with its SNOMED CT-AU concept.
type problem struct {
	text, snomed string
	chronic      bool
	minAge       int
}

var problems = []problem{
	{"Essential hypertension", "59621000", true, 35},
	{"Type 2 diabetes mellitus", "44054006", true, 35},
	{"Asthma", "195967001", true, 3},
	{"Gastro-oesophageal reflux disease", "235595009", true, 18},
	{"Hypercholesterolaemia", "13644009", true, 30},
	{"Depression", "35489007", true, 15},
	{"Osteoarthritis of knee", "239873007", true, 45},
	{"Acute upper respiratory infection", "54150009", false, 0},
	{"Otitis media", "65363002", false, 0},
	{"Urinary tract infection", "68566005", false, 5},
	{"Low back pain", "279039007", false, 16},
	{"Eczema", "43116000", true, 0},
}

// drug is a medicine with its AMT code (the medicinal product pack is not modelled), and how
// it is prescribed: the quantity and repeats of a script, whether it is taken when needed,
// and whether it is one course (one script) rather than a long-term medicine.
type drug struct {
	name, strength, amt, dose string
	qty, repeats              int
	prn, course               bool
}

var drugs = []drug{
	{"Perindopril", "5 mg", "21872011000036104", "1 tablet daily", 30, 5, false, false},
	{"Metformin", "500 mg", "21480011000036104", "1 tablet twice a day with food", 100, 5, false, false},
	{"Atorvastatin", "20 mg", "21233011000036101", "1 tablet at night", 30, 5, false, false},
	{"Salbutamol inhaler", "100 microgram/dose", "21554011000036105", "2 puffs when needed", 1, 2, true, false},
	{"Esomeprazole", "20 mg", "21429011000036105", "1 tablet daily before breakfast", 30, 5, false, false},
	{"Sertraline", "50 mg", "21668011000036105", "1 tablet daily", 30, 5, false, false},
	{"Amoxicillin", "500 mg", "20897011000036102", "1 capsule three times a day for 5 days", 20, 0, false, true},
	{"Paracetamol", "500 mg", "21291011000036107", "2 tablets every 4 to 6 hours when needed", 100, 0, true, false},
}

var scriptCancelReasons = []string{"Prescribed in error", "Dose changed", "Patient declined"}

var contactReasons = []string{"Results", "Repeat prescription", "Medication review", "Follow-up", "Unwell"}

// allergen is a substance with its SNOMED CT concept and category (1 medication, 2 food,
// 3 environment).
type allergen struct {
	name, snomed, reaction string
	category               int
}

var allergens = []allergen{
	{"Penicillin", "764146007", "Urticaria", 1},
	{"Sulfonamide", "387406002", "Rash", 1},
	{"Codeine", "387494007", "Nausea and vomiting", 1},
	{"Peanut", "762952008", "Anaphylaxis", 2},
	{"Shellfish", "735029006", "Angioedema", 2},
	{"House dust mite", "260147004", "Rhinitis", 3},
	{"Bee venom", "288328004", "Anaphylaxis", 3},
}

// vaccine is a vaccine with its AMT code.
type vaccine struct{ name, amt string }

var vaccines = []vaccine{
	{"Fluarix Tetra", "1290641000168106"},
	{"Comirnaty", "1525011000168107"},
	{"Boostrix", "925441011000036104"},
	{"Prevenar 13", "1211000168104"},
	{"Shingrix", "1415001000168108"},
	{"Infanrix hexa", "1261000168100"},
}

var injectionSites = []string{"Left deltoid", "Right deltoid", "Left thigh", "Right thigh"}

var apptReasons = []string{"Check-up", "Review results", "Repeat prescription", "Cough", "Skin check", "Sore throat",
	"Back pain", "Blood pressure review", "Immunisation", "Care plan", "Follow-up", "Medical certificate"}

var cancelReasons = []string{"Patient cancelled", "Patient unwell", "Doctor unavailable", "Rebooked"}
