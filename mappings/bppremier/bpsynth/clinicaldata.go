package bpsynth

// Clinical reference lists: conditions with SNOMED CT codes, medicines, allergens, vaccines,
// pathology analytes with LOINC codes. Medicine and vaccine names are real Australian
// products; item codes, product ids and vaccine ids are synthetic (in Bp they come from the
// BPSDrugs database).
//
// SNOMED CT concept ids (checked against public terminology use): asthma 195967001, type 2
// diabetes mellitus 44054006, hypertensive disorder 38341003, hyperlipidaemia 55822004,
// osteoarthritis 396275006, gastro-oesophageal reflux disease 235595009, depressive disorder
// 35489007, anxiety disorder 197480006, hypothyroidism 40930008, atrial fibrillation 49436004,
// chronic obstructive lung disease 13645005, ischaemic heart disease 414545008, migraine
// 37796009, osteoporosis 64859006, chronic kidney disease 709044004, type 1 diabetes mellitus
// 46635009, atopic dermatitis 24079001, gout 90560007, obesity 414916001, allergic rhinitis
// 61582004, low back pain 279039007, heart failure 84114007, psoriasis 9014002, myocardial
// infarction 22298006, cerebrovascular accident 230690007, appendicectomy 80146002,
// cholecystectomy 38102005, fracture of radius 12676007, hypercholesterolaemia 13644009.

// condition is a past-history item (PASTHISTORY.ITEMTEXT / ITEMCODE, SNOMED via SYN_CONDITIONS).
type condition struct {
	key      string
	name     string
	itemCode int
	snomed   string
	prev     [4]float64 // prevalence by age band: <18, 18-44, 45-64, 65+
	female   float64    // prevalence multiplier for women (men get 2-female, at least 0.2)
	chronic  bool       // active, long-term; otherwise a past event (inactive)
	side     bool       // has a side (left/right)
	fracture bool
	meds     []string // medicine keys, the first always, the others sometimes
	labs     []string // pathology panels followed up
	minAge   int
}

var conditionCatalogue = []condition{
	{key: "asthma", name: "Asthma", itemCode: 1001, snomed: "195967001", prev: [4]float64{.10, .10, .10, .09}, female: 1.1, chronic: true, meds: []string{"salbutamol", "symbicort"}},
	{key: "t2dm", name: "Diabetes mellitus - type 2", itemCode: 1002, snomed: "44054006", prev: [4]float64{0, .02, .09, .17}, female: .85, chronic: true, meds: []string{"metformin", "gliclazide", "empagliflozin"}, labs: []string{"hba1c", "lipids", "euc", "acr"}, minAge: 25},
	{key: "htn", name: "Hypertension", itemCode: 1003, snomed: "38341003", prev: [4]float64{0, .06, .25, .50}, female: 1, chronic: true, meds: []string{"perindopril", "amlodipine", "irbesartan", "candesartan"}, labs: []string{"euc"}, minAge: 20},
	{key: "lipids", name: "Hyperlipidaemia", itemCode: 1004, snomed: "55822004", prev: [4]float64{0, .05, .25, .40}, female: .9, chronic: true, meds: []string{"atorvastatin", "rosuvastatin"}, labs: []string{"lipids"}, minAge: 20},
	{key: "chol", name: "Hypercholesterolaemia", itemCode: 1029, snomed: "13644009", prev: [4]float64{0, .02, .05, .05}, female: 1, chronic: true, meds: []string{"rosuvastatin"}, labs: []string{"lipids"}, minAge: 20},
	{key: "oa", name: "Osteoarthritis", itemCode: 1005, snomed: "396275006", prev: [4]float64{0, .02, .15, .35}, female: 1.2, chronic: true, side: true, meds: []string{"panadolosteo"}, minAge: 30},
	{key: "gord", name: "Gastro-oesophageal reflux disease", itemCode: 1006, snomed: "235595009", prev: [4]float64{.01, .08, .15, .20}, female: 1, chronic: true, meds: []string{"pantoprazole", "esomeprazole"}},
	{key: "depression", name: "Depression", itemCode: 1007, snomed: "35489007", prev: [4]float64{.02, .12, .12, .10}, female: 1.5, chronic: true, meds: []string{"sertraline", "escitalopram"}, minAge: 12},
	{key: "anxiety", name: "Anxiety disorder", itemCode: 1008, snomed: "197480006", prev: [4]float64{.03, .12, .10, .07}, female: 1.5, chronic: true, minAge: 8},
	{key: "hypothyroid", name: "Hypothyroidism", itemCode: 1009, snomed: "40930008", prev: [4]float64{0, .03, .06, .08}, female: 1.8, chronic: true, meds: []string{"levothyroxine"}, labs: []string{"tsh"}, minAge: 18},
	{key: "af", name: "Atrial fibrillation", itemCode: 1010, snomed: "49436004", prev: [4]float64{0, .002, .02, .09}, female: .8, chronic: true, meds: []string{"apixaban", "metoprolol", "rivaroxaban"}, labs: []string{"euc", "fbc"}, minAge: 35},
	{key: "copd", name: "Chronic obstructive pulmonary disease", itemCode: 1011, snomed: "13645005", prev: [4]float64{0, .005, .04, .09}, female: .9, chronic: true, meds: []string{"tiotropium", "salbutamol"}, minAge: 40},
	{key: "ihd", name: "Ischaemic heart disease", itemCode: 1012, snomed: "414545008", prev: [4]float64{0, .003, .04, .12}, female: .6, chronic: true, meds: []string{"aspirin", "atorvastatin", "metoprolol"}, labs: []string{"lipids", "euc"}, minAge: 35},
	{key: "migraine", name: "Migraine", itemCode: 1013, snomed: "37796009", prev: [4]float64{.02, .08, .05, .02}, female: 1.6, chronic: true, minAge: 8},
	{key: "osteoporosis", name: "Osteoporosis", itemCode: 1014, snomed: "64859006", prev: [4]float64{0, .002, .04, .15}, female: 1.7, chronic: true, meds: []string{"alendronate", "colecalciferol"}, minAge: 45},
	{key: "ckd", name: "Chronic kidney disease", itemCode: 1015, snomed: "709044004", prev: [4]float64{0, .005, .03, .10}, female: 1, chronic: true, labs: []string{"euc", "acr", "fbc"}, minAge: 30},
	{key: "t1dm", name: "Diabetes mellitus - type 1", itemCode: 1016, snomed: "46635009", prev: [4]float64{.003, .005, .005, .004}, female: 1, chronic: true, meds: []string{"glargine"}, labs: []string{"hba1c", "acr"}, minAge: 2},
	{key: "eczema", name: "Eczema", itemCode: 1017, snomed: "24079001", prev: [4]float64{.15, .05, .03, .02}, female: 1, chronic: true, meds: []string{"advantan"}},
	{key: "gout", name: "Gout", itemCode: 1018, snomed: "90560007", prev: [4]float64{0, .01, .04, .06}, female: .3, chronic: true, meds: []string{"allopurinol"}, labs: []string{"euc"}, minAge: 25},
	{key: "obesity", name: "Obesity", itemCode: 1019, snomed: "414916001", prev: [4]float64{.05, .15, .25, .22}, female: 1, chronic: true, minAge: 5},
	{key: "rhinitis", name: "Allergic rhinitis", itemCode: 1020, snomed: "61582004", prev: [4]float64{.10, .18, .12, .08}, female: 1, chronic: true, meds: []string{"avamys"}, minAge: 3},
	{key: "backpain", name: "Low back pain", itemCode: 1021, snomed: "279039007", prev: [4]float64{.01, .08, .10, .10}, female: 1, chronic: false, minAge: 14},
	{key: "hf", name: "Heart failure", itemCode: 1022, snomed: "84114007", prev: [4]float64{0, 0, .005, .04}, female: .8, chronic: true, meds: []string{"furosemide", "bisoprolol"}, labs: []string{"euc"}, minAge: 45},
	{key: "psoriasis", name: "Psoriasis", itemCode: 1023, snomed: "9014002", prev: [4]float64{.005, .025, .03, .03}, female: 1, chronic: true},
	{key: "mi", name: "Myocardial infarction", itemCode: 1024, snomed: "22298006", prev: [4]float64{0, .001, .015, .05}, female: .6, chronic: false, minAge: 35},
	{key: "cva", name: "Cerebrovascular accident", itemCode: 1025, snomed: "230690007", prev: [4]float64{0, .001, .01, .04}, female: 1, chronic: false, minAge: 35},
	{key: "appendix", name: "Appendicectomy", itemCode: 1026, snomed: "80146002", prev: [4]float64{.01, .05, .07, .08}, female: 1, chronic: false, minAge: 5},
	{key: "gallbladder", name: "Cholecystectomy", itemCode: 1027, snomed: "38102005", prev: [4]float64{0, .02, .05, .08}, female: 1.6, chronic: false, minAge: 18},
	{key: "fracture", name: "Fracture of radius", itemCode: 1028, snomed: "12676007", prev: [4]float64{.03, .03, .03, .05}, female: 1, chronic: false, side: true, fracture: true, minAge: 3},
}

// Route codes of CURRENTRX/SCRIPTITEMS.ROUTE (assumed numbering).
const (
	RouteOral          = 1
	RouteInhaled       = 2
	RouteTopical       = 3
	RouteSubcutaneous  = 4
	RouteIntranasal    = 5
	RouteIntramuscular = 6
)

// frequency, food and other-detail code lists (SYN_FREQUENCY, SYN_FOOD, SYN_OTHERDETAIL).
type freqCode struct {
	code   int
	text   string
	perDay int
}

const (
	FreqNone = iota
	FreqDaily
	FreqBD
	FreqTDS
	FreqQID
	FreqNocte
	FreqMane
	FreqWeekly
	FreqPRN
	FreqQ4to6H
)

var frequencies = []freqCode{{FreqNone, "", 0}, {FreqDaily, "Daily", 1}, {FreqBD, "Twice a day", 2},
	{FreqTDS, "Three times a day", 3}, {FreqQID, "Four times a day", 4}, {FreqNocte, "At night", 1},
	{FreqMane, "In the morning", 1}, {FreqWeekly, "Once a week", 0}, {FreqPRN, "When required", 0},
	{FreqQ4to6H, "Every 4-6 hours", 4}}

var foods = []codeText{{0, ""}, {1, "With food"}, {2, "Before food"}, {3, "After food"}, {4, "On an empty stomach"}}

var otherDetails = []codeText{{0, ""}, {1, "for 5 days"}, {2, "for 7 days"}, {3, "until finished"}, {4, "as directed"},
	{5, "30 minutes before breakfast, stay upright"}, {6, "when wheezy or short of breath"}, {7, "for pain"}}

// medicine is a product as prescribed (CURRENTRX, SCRIPTITEMS).
type medicine struct {
	key         string
	product     string // PRODUCTNAME (brand)
	description string // PRODUCTDESCRIPTION (generic, strength, form)
	strength    string
	form        string
	dose        string
	freq, food  int
	other       int
	route       int
	qty         int
	unit        string // PRODUCTUNIT
	repeats     int
	prn         bool
	otc         bool // recorded as current medicine, never prescribed here
	productID   int
}

var medicines = []medicine{
	{key: "metformin", product: "Diabex XR", description: "metformin hydrochloride 1 g modified release tablet", strength: "1 g", form: "Tablet, modified release", dose: "1", freq: FreqDaily, food: 1, route: RouteOral, qty: 60, unit: "tablets", repeats: 5, productID: 20101},
	{key: "gliclazide", product: "Diamicron MR", description: "gliclazide 60 mg modified release tablet", strength: "60 mg", form: "Tablet, modified release", dose: "1", freq: FreqMane, food: 1, route: RouteOral, qty: 60, unit: "tablets", repeats: 5, productID: 20102},
	{key: "empagliflozin", product: "Jardiance", description: "empagliflozin 10 mg tablet", strength: "10 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20103},
	{key: "perindopril", product: "Coversyl", description: "perindopril arginine 5 mg tablet", strength: "5 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20104},
	{key: "amlodipine", product: "Norvasc", description: "amlodipine 5 mg tablet", strength: "5 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20105},
	{key: "irbesartan", product: "Avapro", description: "irbesartan 150 mg tablet", strength: "150 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20106},
	{key: "candesartan", product: "Atacand", description: "candesartan cilexetil 16 mg tablet", strength: "16 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20107},
	{key: "atorvastatin", product: "Lipitor", description: "atorvastatin 40 mg tablet", strength: "40 mg", form: "Tablet", dose: "1", freq: FreqNocte, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20108},
	{key: "rosuvastatin", product: "Crestor", description: "rosuvastatin 10 mg tablet", strength: "10 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20109},
	{key: "panadolosteo", product: "Panadol Osteo", description: "paracetamol 665 mg modified release tablet", strength: "665 mg", form: "Tablet, modified release", dose: "2", freq: FreqTDS, other: 7, route: RouteOral, qty: 96, unit: "tablets", repeats: 2, productID: 20110},
	{key: "pantoprazole", product: "Somac", description: "pantoprazole 40 mg enteric tablet", strength: "40 mg", form: "Tablet, enteric", dose: "1", freq: FreqDaily, food: 2, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20111},
	{key: "esomeprazole", product: "Nexium", description: "esomeprazole 20 mg enteric tablet", strength: "20 mg", form: "Tablet, enteric", dose: "1", freq: FreqDaily, food: 2, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20112},
	{key: "sertraline", product: "Zoloft", description: "sertraline 50 mg tablet", strength: "50 mg", form: "Tablet", dose: "1", freq: FreqMane, route: RouteOral, qty: 30, unit: "tablets", repeats: 5, productID: 20113},
	{key: "escitalopram", product: "Lexapro", description: "escitalopram 10 mg tablet", strength: "10 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 28, unit: "tablets", repeats: 5, productID: 20114},
	{key: "levothyroxine", product: "Eutroxsig", description: "levothyroxine sodium 100 microgram tablet", strength: "100 microgram", form: "Tablet", dose: "1", freq: FreqMane, food: 4, route: RouteOral, qty: 200, unit: "tablets", repeats: 1, productID: 20115},
	{key: "apixaban", product: "Eliquis", description: "apixaban 5 mg tablet", strength: "5 mg", form: "Tablet", dose: "1", freq: FreqBD, route: RouteOral, qty: 60, unit: "tablets", repeats: 5, productID: 20116},
	{key: "rivaroxaban", product: "Xarelto", description: "rivaroxaban 20 mg tablet", strength: "20 mg", form: "Tablet", dose: "1", freq: FreqDaily, food: 1, route: RouteOral, qty: 28, unit: "tablets", repeats: 5, productID: 20117},
	{key: "warfarin", product: "Coumadin", description: "warfarin sodium 5 mg tablet", strength: "5 mg", form: "Tablet", dose: "as directed", freq: FreqDaily, other: 4, route: RouteOral, qty: 50, unit: "tablets", repeats: 1, productID: 20131},
	{key: "metoprolol", product: "Betaloc", description: "metoprolol tartrate 50 mg tablet", strength: "50 mg", form: "Tablet", dose: "1", freq: FreqBD, route: RouteOral, qty: 100, unit: "tablets", repeats: 1, productID: 20118},
	{key: "salbutamol", product: "Ventolin", description: "salbutamol 100 microgram/actuation pressurised inhalation", strength: "100 microgram/actuation", form: "Inhalation, pressurised", dose: "2 puffs", freq: FreqQ4to6H, other: 6, route: RouteInhaled, qty: 1, unit: "inhaler", repeats: 5, prn: true, productID: 20119},
	{key: "symbicort", product: "Symbicort Turbuhaler", description: "budesonide 200 microgram/actuation + formoterol 6 microgram/actuation inhalation", strength: "200/6 microgram", form: "Powder for inhalation", dose: "2 puffs", freq: FreqBD, route: RouteInhaled, qty: 1, unit: "inhaler", repeats: 5, productID: 20120},
	{key: "tiotropium", product: "Spiriva", description: "tiotropium 18 microgram powder for inhalation, capsule", strength: "18 microgram", form: "Capsule for inhalation", dose: "1", freq: FreqDaily, route: RouteInhaled, qty: 30, unit: "capsules", repeats: 5, productID: 20121},
	{key: "alendronate", product: "Fosamax", description: "alendronate 70 mg tablet", strength: "70 mg", form: "Tablet", dose: "1", freq: FreqWeekly, other: 5, route: RouteOral, qty: 4, unit: "tablets", repeats: 5, productID: 20122},
	{key: "colecalciferol", product: "Ostelin Vitamin D3", description: "colecalciferol 25 microgram (1000 IU) capsule", strength: "1000 IU", form: "Capsule", dose: "1", freq: FreqDaily, route: RouteOral, qty: 60, unit: "capsules", otc: true, productID: 20123},
	{key: "aspirin", product: "Cartia", description: "aspirin 100 mg enteric tablet", strength: "100 mg", form: "Tablet, enteric", dose: "1", freq: FreqDaily, food: 1, route: RouteOral, qty: 84, unit: "tablets", otc: true, productID: 20124},
	{key: "allopurinol", product: "Zyloprim", description: "allopurinol 300 mg tablet", strength: "300 mg", form: "Tablet", dose: "1", freq: FreqDaily, food: 3, route: RouteOral, qty: 60, unit: "tablets", repeats: 5, productID: 20125},
	{key: "furosemide", product: "Lasix", description: "furosemide 40 mg tablet", strength: "40 mg", form: "Tablet", dose: "1", freq: FreqMane, route: RouteOral, qty: 100, unit: "tablets", repeats: 1, productID: 20126},
	{key: "bisoprolol", product: "Bicor", description: "bisoprolol fumarate 2.5 mg tablet", strength: "2.5 mg", form: "Tablet", dose: "1", freq: FreqDaily, route: RouteOral, qty: 28, unit: "tablets", repeats: 5, productID: 20127},
	{key: "glargine", product: "Optisulin SoloStar", description: "insulin glargine 300 units/3 mL injection, pen", strength: "100 units/mL", form: "Injection", dose: "20 units", freq: FreqNocte, other: 4, route: RouteSubcutaneous, qty: 5, unit: "pens", repeats: 5, productID: 20128},
	{key: "avamys", product: "Avamys", description: "fluticasone furoate 27.5 microgram/actuation nasal spray", strength: "27.5 microgram/actuation", form: "Spray, nasal", dose: "2 sprays", freq: FreqDaily, route: RouteIntranasal, qty: 1, unit: "spray", repeats: 3, productID: 20129},
	{key: "advantan", product: "Advantan Fatty Ointment", description: "methylprednisolone aceponate 0.1% ointment", strength: "0.1%", form: "Ointment", dose: "apply thinly", freq: FreqDaily, route: RouteTopical, qty: 1, unit: "15 g tube", repeats: 1, productID: 20130},
	// short-term medicines for acute problems
	{key: "amoxicillin", product: "Amoxil", description: "amoxicillin 500 mg capsule", strength: "500 mg", form: "Capsule", dose: "1", freq: FreqTDS, other: 1, route: RouteOral, qty: 20, unit: "capsules", productID: 20201},
	{key: "amoxiclav", product: "Augmentin Duo Forte", description: "amoxicillin 875 mg + clavulanic acid 125 mg tablet", strength: "875/125 mg", form: "Tablet", dose: "1", freq: FreqBD, food: 1, other: 1, route: RouteOral, qty: 10, unit: "tablets", productID: 20202},
	{key: "cefalexin", product: "Keflex", description: "cefalexin 500 mg capsule", strength: "500 mg", form: "Capsule", dose: "1", freq: FreqQID, other: 2, route: RouteOral, qty: 20, unit: "capsules", productID: 20203},
	{key: "doxycycline", product: "Doryx", description: "doxycycline 100 mg enteric capsule", strength: "100 mg", form: "Capsule, enteric", dose: "1", freq: FreqDaily, food: 1, other: 2, route: RouteOral, qty: 7, unit: "capsules", productID: 20204},
	{key: "trimethoprim", product: "Alprim", description: "trimethoprim 300 mg tablet", strength: "300 mg", form: "Tablet", dose: "1", freq: FreqNocte, other: 2, route: RouteOral, qty: 7, unit: "tablets", productID: 20205},
	{key: "prednisolone", product: "Panafcortelone", description: "prednisolone 25 mg tablet", strength: "25 mg", form: "Tablet", dose: "2", freq: FreqMane, food: 1, other: 1, route: RouteOral, qty: 30, unit: "tablets", productID: 20206},
}

// acuteReason is a reason for an unplanned visit, with an optional short-term medicine.
type acuteReason struct {
	text     string
	code     int
	med      string
	medP     float64
	femaleP  float64 // multiplier for women
	fever    bool
	minAge   int
	apptText string
}

var acuteReasons = []acuteReason{
	{text: "Upper respiratory tract infection", code: 2001, med: "amoxicillin", medP: .15, fever: true, apptText: "Cold and cough"},
	{text: "Acute sinusitis", code: 2002, med: "amoxiclav", medP: .5, fever: true, minAge: 5, apptText: "Sinus pain"},
	{text: "Urinary tract infection", code: 2003, med: "trimethoprim", medP: .8, femaleP: 4, minAge: 2, apptText: "Burning when passing urine"},
	{text: "Cellulitis", code: 2004, med: "cefalexin", medP: .9, apptText: "Red swollen leg"},
	{text: "Acute bronchitis", code: 2005, med: "doxycycline", medP: .35, fever: true, minAge: 8, apptText: "Chesty cough"},
	{text: "Gastroenteritis", code: 2006, fever: true, apptText: "Vomiting and diarrhoea"},
	{text: "Back pain", code: 2007, minAge: 15, apptText: "Sore back"},
	{text: "Skin check", code: 2008, minAge: 18, apptText: "Skin check"},
	{text: "Medical certificate", code: 2009, minAge: 15, apptText: "Sick certificate"},
	{text: "Asthma exacerbation", code: 2010, med: "prednisolone", medP: .6, minAge: 3, apptText: "Asthma flare"},
	{text: "Otitis media", code: 2011, med: "amoxicillin", medP: .6, fever: true, apptText: "Earache"},
	{text: "Rash", code: 2012, apptText: "Rash"},
	{text: "Sprained ankle", code: 2013, minAge: 6, apptText: "Ankle injury"},
	{text: "Insomnia", code: 2014, minAge: 18, apptText: "Trouble sleeping"},
}

// routineReasons are reasons for planned visits.
var routineReasons = []struct {
	text string
	code int
}{{"Script renewal", 3001}, {"Review of results", 3002}, {"Immunisation", 3003}, {"GP management plan", 3004},
	{"Health assessment", 3005}, {"Follow-up", 3006}, {"Referral", 3007}}

// allergen is a REACTIONS item.
type allergen struct {
	name      string
	itemType  int
	itemCode  int
	reactions []string
	weight    int
}

var allergens = []allergen{
	{"Penicillins", ReactionClass, 5001, []string{"Rash", "Urticaria", "Anaphylaxis", "Angioedema"}, 30},
	{"Amoxicillin", ReactionIngredient, 5002, []string{"Rash", "Urticaria"}, 8},
	{"Sulfonamides", ReactionClass, 5003, []string{"Rash", "Stevens-Johnson syndrome", "Fever"}, 10},
	{"Cephalosporins", ReactionClass, 5004, []string{"Rash", "Urticaria"}, 5},
	{"Codeine", ReactionIngredient, 5005, []string{"Nausea and vomiting", "Itch", "Drowsiness"}, 10},
	{"Morphine", ReactionIngredient, 5006, []string{"Nausea and vomiting", "Itch"}, 4},
	{"Aspirin", ReactionIngredient, 5007, []string{"Bronchospasm", "Urticaria", "Gastrointestinal upset"}, 5},
	{"Non-steroidal anti-inflammatory drugs", ReactionClass, 5008, []string{"Gastrointestinal upset", "Urticaria", "Bronchospasm"}, 6},
	{"Trimethoprim", ReactionIngredient, 5009, []string{"Rash"}, 3},
	{"Erythromycin", ReactionIngredient, 5010, []string{"Nausea and vomiting", "Abdominal pain"}, 3},
	{"Perindopril", ReactionIngredient, 5011, []string{"Dry cough", "Angioedema"}, 3},
	{"Atorvastatin", ReactionIngredient, 5012, []string{"Myalgia"}, 3},
	{"Tramadol", ReactionIngredient, 5013, []string{"Nausea and vomiting", "Dizziness"}, 2},
	{"Metoclopramide", ReactionIngredient, 5014, []string{"Dystonic reaction"}, 1},
	{"Iodinated contrast media", ReactionClass, 5015, []string{"Urticaria", "Anaphylaxis"}, 2},
	{"Chlorhexidine", ReactionIngredient, 5016, []string{"Contact dermatitis"}, 1},
}

// vaccine is an IMMUNISATIONS item (VACCINENAME char(50), VACCINEID synthetic).
type vaccine struct {
	key   string
	name  string
	id    int
	batch string // batch number prefix
}

var vaccines = []vaccine{
	{"fluad", "Fluad Quad", 6001, "AF"}, {"vaxigrip", "Vaxigrip Tetra", 6002, "V"}, {"afluria", "Afluria Quad", 6003, "P"},
	{"comirnaty", "Comirnaty", 6004, "FP"}, {"spikevax", "Spikevax", 6005, "MD"}, {"shingrix", "Shingrix", 6006, "AS"},
	{"pneumovax", "Pneumovax 23", 6007, "W0"}, {"prevenar", "Prevenar 13", 6008, "DN"}, {"boostrix", "Boostrix", 6009, "AC"},
	{"infanrixhexa", "Infanrix hexa", 6010, "A21C"}, {"rotarix", "Rotarix", 6011, "AROL"}, {"nimenrix", "Nimenrix", 6012, "AMEN"},
	{"mmr", "M-M-R II", 6013, "U0"}, {"priorixtetra", "Priorix-Tetra", 6014, "A71C"}, {"tripacel", "Tripacel", 6015, "C5"},
	{"quadracel", "Quadracel", 6016, "S4"}, {"gardasil", "Gardasil 9", 6017, "T0"}, {"arexvy", "Arexvy", 6018, "RSV"},
	{"adt", "ADT Booster", 6019, "AD"},
}

// childhoodSchedule lists National Immunisation Program doses by age in days (simplified).
var childhoodSchedule = []struct {
	ageDays int
	keys    []string
}{
	{42, []string{"infanrixhexa", "prevenar", "rotarix"}},
	{120, []string{"infanrixhexa", "prevenar", "rotarix"}},
	{180, []string{"infanrixhexa"}},
	{365, []string{"nimenrix", "mmr", "prevenar"}},
	{548, []string{"priorixtetra", "tripacel"}},
	{1461, []string{"quadracel"}},
}

// analyte is one pathology result line (REPORTVALUES).
type analyte struct {
	name     string // RESULTNAME char(32)
	loinc    string
	bpCode   int
	units    string
	rng      string // RANGE as printed
	lo, hi   float64
	decimals int
}

// panel is one pathology request/report (INVESTIGATIONS.TESTNAME) and its analytes.
type panel struct {
	key      string
	testName string
	analytes []analyte
}

var panels = map[string]panel{
	"hba1c": {"hba1c", "HbA1c", []analyte{
		{"HbA1c", "4548-4", BPHbA1c, "%", "<6.5", 0, 6.4, 1},
		{"HbA1c (IFCC)", "59261-8", BPHbA1cSI, "mmol/mol", "<48", 0, 47, 0},
	}},
	"lipids": {"lipids", "Lipid studies", []analyte{
		{"Cholesterol", "14647-2", BPCholesterol, "mmol/L", "<5.5", 0, 5.4, 1},
		{"Triglycerides", "14927-8", BPTriglycerides, "mmol/L", "<2.0", 0, 1.9, 1},
		{"HDL cholesterol", "14646-4", BPHDL, "mmol/L", ">1.0", 1.0, 99, 1},
		{"LDL cholesterol", "22748-8", BPLDL, "mmol/L", "<3.5", 0, 3.4, 1},
	}},
	"euc": {"euc", "Urea, electrolytes and creatinine", []analyte{
		{"Sodium", "2951-2", 0, "mmol/L", "135-145", 135, 145, 0},
		{"Potassium", "2823-3", 0, "mmol/L", "3.5-5.2", 3.5, 5.2, 1},
		{"Urea", "22664-7", 0, "mmol/L", "2.5-8.0", 2.5, 8.0, 1},
		{"Creatinine", "14682-9", BPCreatinine, "umol/L", "45-110", 45, 110, 0},
		{"eGFR", "62238-1", BPeGFR, "mL/min/1.73m2", ">59", 60, 999, 0},
	}},
	"acr": {"acr", "Urine albumin/creatinine ratio", []analyte{
		{"Albumin/Creatinine ratio", "14959-1", BPACR, "mg/mmol", "<2.5", 0, 2.5, 1},
	}},
	"inr":     {"inr", "INR", []analyte{{"INR", "6301-6", BPINR, "", "2.0-3.0", 2.0, 3.0, 1}}},
	"glucose": {"glucose", "Fasting glucose", []analyte{{"Glucose (fasting)", "14771-0", BPGlucose, "mmol/L", "3.0-5.4", 3.0, 5.4, 1}}},
	"tsh":     {"tsh", "Thyroid function", []analyte{{"TSH", "3016-3", 0, "mIU/L", "0.40-4.00", 0.4, 4.0, 2}}},
	"fbc": {"fbc", "Full blood count", []analyte{
		{"Haemoglobin", "718-7", 0, "g/L", "115-165", 115, 165, 0},
		{"White cell count", "6690-2", 0, "x10^9/L", "4.0-11.0", 4.0, 11.0, 1},
		{"Platelets", "777-3", 0, "x10^9/L", "150-400", 150, 400, 0},
	}},
}

// labNames are the (fictional) pathology providers that send results.
var labNames = []string{"Harbour Pathology", "Coastal Diagnostic Laboratories", "Metro Pathology Services"}

func medicineByKey(key string) *medicine {
	for i := range medicines {
		if medicines[i].key == key {
			return &medicines[i]
		}
	}
	panic("bpsynth: unknown medicine " + key)
}

func vaccineByKey(key string) *vaccine {
	for i := range vaccines {
		if vaccines[i].key == key {
			return &vaccines[i]
		}
	}
	panic("bpsynth: unknown vaccine " + key)
}

func freqText(code int) string {
	for _, f := range frequencies {
		if f.code == code {
			return f.text
		}
	}
	return ""
}

func codeTextOf(list []codeText, code int) string {
	for _, c := range list {
		if c.code == code {
			return c.text
		}
	}
	return ""
}
