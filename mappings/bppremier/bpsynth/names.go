package bpsynth

// Name and address lists. Names are common in Australia across the main ancestry groups, and
// include the shapes that trip up software: apostrophes (O'Brien, D'Angelo), hyphens
// (Smith-Jones), spaces (Van Der Berg, De Silva) and short names (Ng, Le).

// nameGroup is a set of given names and surnames that go together, with its share of patients.
type nameGroup struct {
	weight  int
	male    []string
	female  []string
	surname []string
}

var nameGroups = []nameGroup{
	{ // Anglo-Celtic Australian, all generations
		weight: 60,
		male: []string{"Jack", "Oliver", "William", "Noah", "Thomas", "James", "Lucas", "Henry", "Charlie", "Leo",
			"Ethan", "Liam", "Mason", "Harrison", "Cooper", "Hunter", "Riley", "Lachlan", "Archie", "Hudson",
			"Samuel", "Benjamin", "Joshua", "Daniel", "Matthew", "Ryan", "Nathan", "Luke", "Jake", "Brendan",
			"Michael", "David", "Andrew", "Mark", "Paul", "Peter", "Stephen", "Scott", "Craig", "Shane",
			"Robert", "John", "Richard", "Anthony", "Christopher", "Jason", "Darren", "Glenn", "Wayne", "Troy",
			"Kevin", "Brian", "Graham", "Kenneth", "Ronald", "Barry", "Keith", "Gregory", "Neil", "Trevor",
			"Edward", "Alexander", "Nicholas", "Patrick", "Sean", "Kieran", "Callum", "Angus", "Hamish", "Fletcher",
			"Bruce", "Colin", "Geoffrey", "Ian", "Malcolm", "Raymond", "Arthur", "Harold", "Stanley", "Leslie"},
		female: []string{"Charlotte", "Olivia", "Amelia", "Isla", "Mia", "Ava", "Grace", "Willow", "Harper", "Chloe",
			"Ruby", "Matilda", "Evie", "Sophie", "Zoe", "Lily", "Ella", "Isabella", "Emily", "Hannah",
			"Jessica", "Sarah", "Rebecca", "Emma", "Laura", "Kate", "Amy", "Rachel", "Megan", "Danielle",
			"Michelle", "Nicole", "Lisa", "Kylie", "Melissa", "Karen", "Jodie", "Tracey", "Belinda", "Natalie",
			"Susan", "Jennifer", "Julie", "Deborah", "Sharon", "Wendy", "Christine", "Helen", "Catherine", "Elizabeth",
			"Margaret", "Patricia", "Barbara", "Judith", "Dorothy", "Joan", "Shirley", "Beverley", "Valerie", "Pamela",
			"Kimberley", "Samantha", "Alexandra", "Victoria", "Georgia", "Madison", "Tahlia", "Jasmine", "Brooke", "Courtney",
			"Maureen", "Gwen", "Heather", "Robyn", "Lorraine", "Noelene", "Marion", "Irene", "Jean", "Elaine"},
		surname: []string{"Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson",
			"Thompson", "Walker", "Harris", "Lee", "Ryan", "Robinson", "Kelly", "King", "Davis", "Wright",
			"Evans", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Hughes", "Edwards", "Mitchell",
			"Campbell", "Murphy", "Cooper", "Ward", "Turner", "Collins", "Stewart", "Morris", "Bell", "Watson",
			"O'Brien", "O'Connor", "O'Neill", "O'Sullivan", "O'Keefe", "McDonald", "McKenzie", "MacLeod", "McGrath", "Fitzgerald",
			"Smith-Jones", "Harding-Brown", "Baker", "Carter", "Phillips", "Parker", "Young", "Allen", "Scott", "Adams",
			"Hill", "Moore", "Clark", "Graham", "Ross", "Hamilton", "Reid", "Murray", "Kennedy", "Sullivan",
			"Byrne", "Doyle", "Gallagher", "Quinn", "Brennan", "Nolan", "Fraser", "Henderson", "Cameron", "Sutherland",
			"Hunt", "Marshall", "Richardson", "Lawrence", "Chapman", "Dawson", "Pearce", "Rowe", "Barnes", "Fisher",
			"Lloyd", "Matthews", "Gibson", "Burke", "Duncan", "Grant", "Hayes", "Holmes", "Mason", "Webb"},
	},
	{ // Italian
		weight: 7,
		male:   []string{"Giuseppe", "Antonio", "Salvatore", "Marco", "Luca", "Giovanni", "Francesco", "Vincenzo", "Domenico", "Matteo", "Sam", "Tony", "Frank", "Joseph"},
		female: []string{"Maria", "Giulia", "Rosa", "Francesca", "Angela", "Lucia", "Teresa", "Carmela", "Sofia", "Gabriella", "Anna", "Rita"},
		surname: []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
			"D'Angelo", "D'Amico", "Di Stefano", "De Luca", "Lo Presti", "Caruso", "Costa", "Fontana", "Santoro", "Moretti"},
	},
	{ // Greek
		weight: 4,
		male:   []string{"Nikolaos", "Georgios", "Konstantinos", "Dimitrios", "Ioannis", "Christos", "Peter", "Steve", "Con", "Jim"},
		female: []string{"Eleni", "Maria", "Georgia", "Katerina", "Sophia", "Anastasia", "Despina", "Voula", "Irene", "Helen"},
		surname: []string{"Papadopoulos", "Georgiou", "Nikolaidis", "Konstantinou", "Dimitriou", "Christodoulou", "Pappas",
			"Karagiannis", "Vlahos", "Economou", "Kyriakou", "Alexiou"},
	},
	{ // Vietnamese
		weight: 6,
		male:   []string{"Minh", "Tuan", "Duc", "Hung", "Quang", "Thanh", "Long", "Khoa", "Nam", "Bao", "Huy", "Phuc"},
		female: []string{"Linh", "Mai", "Lan", "Huong", "Thu", "Ngoc", "Trang", "Anh", "Hoa", "Thao", "Vy", "My"},
		surname: []string{"Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Vo", "Dang", "Bui", "Do", "Ho",
			"Ngo", "Duong", "Ly", "Truong"},
	},
	{ // Chinese
		weight: 8,
		male:   []string{"Wei", "Jun", "Hao", "Jian", "Ming", "Lei", "Yang", "Chen", "Kevin", "Jason", "Eric", "Vincent"},
		female: []string{"Mei", "Xin", "Li", "Yan", "Jing", "Hui", "Ying", "Lin", "Grace", "Vivian", "Jenny", "Cindy"},
		surname: []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
			"Ma", "Zhu", "Lin", "Ng", "Wong", "Chan", "Cheung", "Lam"},
	},
	{ // Indian and Sri Lankan
		weight: 7,
		male:   []string{"Arjun", "Rahul", "Vikram", "Aditya", "Rohan", "Sanjay", "Anil", "Rajesh", "Harpreet", "Gurpreet", "Kumar", "Dinesh"},
		female: []string{"Priya", "Ananya", "Aisha", "Divya", "Kavya", "Neha", "Pooja", "Sunita", "Lakshmi", "Deepa", "Simran", "Anjali"},
		surname: []string{"Singh", "Kaur", "Patel", "Sharma", "Kumar", "Gupta", "Reddy", "Nair", "Iyer", "Rao",
			"Perera", "Fernando", "De Silva", "Jayasuriya", "Wickramasinghe", "Menon"},
	},
	{ // Lebanese and Middle Eastern
		weight:  3,
		male:    []string{"Mohammed", "Ahmad", "Ali", "Omar", "Khaled", "Hassan", "Bilal", "Tony", "Charbel", "Elias"},
		female:  []string{"Fatima", "Layla", "Mariam", "Zeinab", "Rania", "Nour", "Yasmin", "Rita", "Joumana", "Hiba"},
		surname: []string{"Haddad", "Khoury", "Nasser", "Saleh", "Hamad", "El-Hassan", "Abdallah", "Farah", "Mansour", "Said"},
	},
	{ // Dutch and German
		weight: 3,
		male:   []string{"Jan", "Pieter", "Hendrik", "Klaus", "Hans", "Dirk", "Willem", "Stefan"},
		female: []string{"Anke", "Ingrid", "Greta", "Johanna", "Heidi", "Elke", "Sabine", "Marieke"},
		surname: []string{"Van Der Berg", "Van Dyk", "De Vries", "Van Den Broek", "Jansen", "Bakker", "Visser", "Muller",
			"Schmidt", "Schneider", "Becker", "Von Bibra"},
	},
	{ // Aboriginal and Torres Strait Islander families (English-origin names are the norm)
		weight:  2,
		male:    []string{"Jarrah", "Koa", "Tyson", "Jayden", "Dylan", "Latrell"},
		female:  []string{"Kirra", "Bindi", "Jedda", "Lowanna", "Marlee", "Tarni", "Alinta", "Kalinda"},
		surname: []string{"Roberts", "Williams", "Thomas", "Anderson", "Walker", "Hill", "Bin Saad", "Ah Kee", "Lui", "Mosby"},
	},
}

// preferredNames maps formal given names to the name people use.
var preferredNames = map[string]string{
	"William": "Bill", "Robert": "Bob", "James": "Jim", "Michael": "Mick", "Christopher": "Chris", "Thomas": "Tom",
	"Matthew": "Matt", "Anthony": "Tony", "Edward": "Ted", "Daniel": "Dan", "Benjamin": "Ben", "Samuel": "Sam",
	"Nicholas": "Nick", "Alexander": "Alex", "Kenneth": "Ken", "Raymond": "Ray", "Gregory": "Greg", "Geoffrey": "Geoff",
	"Elizabeth": "Liz", "Margaret": "Peggy", "Catherine": "Cathy", "Jennifer": "Jenny", "Patricia": "Trish",
	"Rebecca": "Bec", "Jessica": "Jess", "Victoria": "Tori", "Samantha": "Sam", "Alexandra": "Lexi", "Christine": "Chris",
	"Deborah": "Deb", "Susan": "Sue", "Kimberley": "Kim", "Dorothy": "Dot", "Beverley": "Bev", "Pamela": "Pam",
	"Giuseppe": "Joe", "Salvatore": "Sam", "Konstantinos": "Con", "Dimitrios": "Jim", "Georgios": "George",
	"Nikolaos": "Nick", "Minh": "Michael", "Thanh": "Tim", "Wei": "William", "Mei": "May", "Linh": "Linda",
	"Huong": "Helen", "Mohammed": "Mo", "Vikram": "Vik",
}

// state is an Australian state or territory with its delivery (street) postcode ranges,
// telephone area code and the first digits of local numbers.
type state struct {
	code     string
	ranges   [][2]int // inclusive
	areaCode string
}

// States and their delivery postcode ranges (Australia Post). Ranges reserved for PO boxes
// and large-volume receivers (e.g. NSW 1000-1999, ACT 0200-0299, VIC 8000-8999, QLD 9000-9999,
// SA 5800-5999, WA 6800-6999, TAS 7800-7999, NT 0900-0999) are not used for street addresses.
var states = []state{
	{"NSW", [][2]int{{2000, 2599}, {2619, 2899}, {2921, 2999}}, "02"},
	{"ACT", [][2]int{{2600, 2618}, {2900, 2920}}, "02"},
	{"VIC", [][2]int{{3000, 3999}}, "03"},
	{"QLD", [][2]int{{4000, 4999}}, "07"},
	{"SA", [][2]int{{5000, 5799}}, "08"},
	{"WA", [][2]int{{6000, 6797}}, "08"},
	{"TAS", [][2]int{{7000, 7799}}, "03"},
	{"NT", [][2]int{{800, 899}}, "08"},
}

// StateOfPostcode returns the state or territory whose delivery postcode ranges contain the
// 4-digit postcode pc, or "" when none does. Bp stores no state: mappings derive it this way.
func StateOfPostcode(pc string) string {
	if len(pc) != 4 || !allDigits(pc) {
		return ""
	}
	n := int(pc[0]-'0')*1000 + int(pc[1]-'0')*100 + int(pc[2]-'0')*10 + int(pc[3]-'0')
	for _, s := range states {
		for _, r := range s.ranges {
			if n >= r[0] && n <= r[1] {
				return s.code
			}
		}
	}
	return ""
}

// suburb is a real locality with its real postcode.
type suburb struct {
	name     string
	postcode string
	state    string
}

var suburbs = []suburb{
	// NSW
	{"Sydney", "2000", "NSW"}, {"Surry Hills", "2010", "NSW"}, {"Bondi", "2026", "NSW"}, {"Randwick", "2031", "NSW"},
	{"Newtown", "2042", "NSW"}, {"Marrickville", "2204", "NSW"}, {"Chatswood", "2067", "NSW"}, {"Hornsby", "2077", "NSW"},
	{"Manly", "2095", "NSW"}, {"Dee Why", "2099", "NSW"}, {"Ryde", "2112", "NSW"}, {"Parramatta", "2150", "NSW"},
	{"Castle Hill", "2154", "NSW"}, {"Blacktown", "2148", "NSW"}, {"Liverpool", "2170", "NSW"}, {"Bankstown", "2200", "NSW"},
	{"Hurstville", "2220", "NSW"}, {"Cronulla", "2230", "NSW"}, {"Gosford", "2250", "NSW"}, {"Newcastle", "2300", "NSW"},
	{"Maitland", "2320", "NSW"}, {"Tamworth", "2340", "NSW"}, {"Armidale", "2350", "NSW"}, {"Port Macquarie", "2444", "NSW"},
	{"Coffs Harbour", "2450", "NSW"}, {"Lismore", "2480", "NSW"}, {"Wollongong", "2500", "NSW"}, {"Nowra", "2541", "NSW"},
	{"Campbelltown", "2560", "NSW"}, {"Goulburn", "2580", "NSW"}, {"Queanbeyan", "2620", "NSW"}, {"Albury", "2640", "NSW"},
	{"Wagga Wagga", "2650", "NSW"}, {"Penrith", "2750", "NSW"}, {"Katoomba", "2780", "NSW"}, {"Bathurst", "2795", "NSW"},
	{"Orange", "2800", "NSW"}, {"Dubbo", "2830", "NSW"}, {"Broken Hill", "2880", "NSW"}, {"Tweed Heads", "2485", "NSW"},
	// ACT
	{"Canberra", "2601", "ACT"}, {"Dickson", "2602", "ACT"}, {"Phillip", "2606", "ACT"}, {"Braddon", "2612", "ACT"},
	{"Belconnen", "2617", "ACT"}, {"Kambah", "2902", "ACT"}, {"Greenway", "2900", "ACT"}, {"Gungahlin", "2912", "ACT"},
	// VIC
	{"Melbourne", "3000", "VIC"}, {"Footscray", "3011", "VIC"}, {"Werribee", "3030", "VIC"}, {"Carlton", "3053", "VIC"},
	{"Brunswick", "3056", "VIC"}, {"Preston", "3072", "VIC"}, {"Richmond", "3121", "VIC"}, {"Box Hill", "3128", "VIC"},
	{"Ringwood", "3134", "VIC"}, {"Glen Waverley", "3150", "VIC"}, {"Dandenong", "3175", "VIC"}, {"St Kilda", "3182", "VIC"},
	{"Frankston", "3199", "VIC"}, {"Geelong", "3220", "VIC"}, {"Warrnambool", "3280", "VIC"}, {"Ballarat", "3350", "VIC"},
	{"Sunbury", "3429", "VIC"}, {"Mildura", "3500", "VIC"}, {"Bendigo", "3550", "VIC"}, {"Shepparton", "3630", "VIC"},
	{"Wodonga", "3690", "VIC"}, {"Traralgon", "3844", "VIC"}, {"Pakenham", "3810", "VIC"},
	// QLD
	{"Brisbane City", "4000", "QLD"}, {"Fortitude Valley", "4006", "QLD"}, {"Chermside", "4032", "QLD"},
	{"Indooroopilly", "4068", "QLD"}, {"Logan Central", "4114", "QLD"}, {"Southport", "4215", "QLD"},
	{"Surfers Paradise", "4217", "QLD"}, {"Ipswich", "4305", "QLD"}, {"Toowoomba", "4350", "QLD"},
	{"Caboolture", "4510", "QLD"}, {"Maroochydore", "4558", "QLD"}, {"Noosa Heads", "4567", "QLD"},
	{"Bundaberg", "4670", "QLD"}, {"Gladstone", "4680", "QLD"}, {"Rockhampton", "4700", "QLD"}, {"Mackay", "4740", "QLD"},
	{"Townsville", "4810", "QLD"}, {"Mount Isa", "4825", "QLD"}, {"Cairns", "4870", "QLD"},
	// SA
	{"Adelaide", "5000", "SA"}, {"North Adelaide", "5006", "SA"}, {"Glenelg", "5045", "SA"}, {"Norwood", "5067", "SA"},
	{"Prospect", "5082", "SA"}, {"Salisbury", "5108", "SA"}, {"Elizabeth", "5112", "SA"}, {"Noarlunga Centre", "5168", "SA"},
	{"Victor Harbor", "5211", "SA"}, {"Mount Barker", "5251", "SA"}, {"Murray Bridge", "5253", "SA"},
	{"Mount Gambier", "5290", "SA"}, {"Whyalla", "5600", "SA"}, {"Port Lincoln", "5606", "SA"}, {"Port Augusta", "5700", "SA"},
	// WA
	{"Perth", "6000", "WA"}, {"Subiaco", "6008", "WA"}, {"Scarborough", "6019", "WA"}, {"Joondalup", "6027", "WA"},
	{"Midland", "6056", "WA"}, {"Armadale", "6112", "WA"}, {"Fremantle", "6160", "WA"}, {"Rockingham", "6168", "WA"},
	{"Mandurah", "6210", "WA"}, {"Bunbury", "6230", "WA"}, {"Albany", "6330", "WA"}, {"Kalgoorlie", "6430", "WA"},
	{"Geraldton", "6530", "WA"}, {"Karratha", "6714", "WA"}, {"Broome", "6725", "WA"},
	// TAS
	{"Hobart", "7000", "TAS"}, {"Sandy Bay", "7005", "TAS"}, {"Glenorchy", "7010", "TAS"}, {"Kingston", "7050", "TAS"},
	{"New Norfolk", "7140", "TAS"}, {"Sorell", "7172", "TAS"}, {"Launceston", "7250", "TAS"}, {"Devonport", "7310", "TAS"},
	{"Ulverstone", "7315", "TAS"}, {"Burnie", "7320", "TAS"},
	// NT
	{"Darwin", "0800", "NT"}, {"Casuarina", "0810", "NT"}, {"Nightcliff", "0810", "NT"}, {"Palmerston", "0830", "NT"},
	{"Katherine", "0850", "NT"}, {"Tennant Creek", "0860", "NT"}, {"Alice Springs", "0870", "NT"}, {"Nhulunbuy", "0880", "NT"},
}

var streetNames = []string{"High", "Church", "George", "King", "Queen", "Victoria", "Albert", "Elizabeth", "William",
	"Station", "Park", "Railway", "Main", "Bridge", "Hill", "Wattle", "Banksia", "Acacia", "Jacaranda", "Waratah",
	"Boronia", "Grevillea", "Bottlebrush", "Kurrajong", "Eucalyptus", "Melaleuca", "Lilly Pilly", "Macquarie", "Hume",
	"Flinders", "Cook", "Darling", "Murray", "Lachlan", "Bligh", "Phillip", "Hunter", "Collins", "Bourke", "Lonsdale",
	"Beach", "Ocean", "Bay", "River", "Lake", "Forest", "Valley", "Ridge", "Mountain", "Sunset", "Golf Links",
	"St Johns", "O'Connell", "Mary", "Anne", "Grey", "Stirling", "Hay", "Murray-Smith", "Kingsford Smith"}

var streetTypes = []string{"Street", "Street", "Street", "Road", "Road", "Avenue", "Parade", "Crescent", "Drive",
	"Court", "Place", "Lane", "Terrace", "Close", "Way", "Highway", "Boulevard", "Circuit", "Esplanade", "Grove"}

var practiceNames = []string{"Harbourside Family Medical", "Wattle Grove Medical Centre", "Riverbend General Practice",
	"Southern Cross Family Practice", "Banksia Health Clinic", "Bluegum Medical Group", "Seaview Doctors",
	"Parkside Medical Practice", "Jacaranda Family Doctors", "Eastwood Medical Centre"}

var awayReasons = []string{"Annual leave", "Conference", "Sick leave", "Long service leave", "Education leave", "Personal leave"}

// emailDomains are reserved example domains (RFC 2606), so no generated address can reach a
// real mailbox.
var emailDomains = []string{"example.com", "example.net", "example.org"}

var occupations = []string{"Teacher", "Nurse", "Electrician", "Accountant", "Retail assistant", "Truck driver",
	"Chef", "Carpenter", "Public servant", "Farmer", "Engineer", "Plumber", "Cleaner", "Pharmacist"}
