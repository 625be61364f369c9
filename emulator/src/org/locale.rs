//! Locale data for the seeded generator: names, phone formats, addresses, email domains and
//! the national id each locale uses. Small lists; variety comes from combining them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Us,
    Gb,
    Ca,
    Br,
    In,
    Nl,
    Es,
    Fr,
}

pub const ALL: [Locale; 8] = [
    Locale::Us,
    Locale::Gb,
    Locale::Ca,
    Locale::Br,
    Locale::In,
    Locale::Nl,
    Locale::Es,
    Locale::Fr,
];

pub struct LocaleData {
    pub first: &'static [&'static str],
    pub last: &'static [&'static str],
    pub streets: &'static [&'static str],
    /// (city, state/region, postal-code pattern: `9` digit, `A` letter, others literal)
    pub cities: &'static [(&'static str, &'static str, &'static str)],
    pub country: &'static str,
    pub domains: &'static [&'static str],
    /// Phone patterns (`9` any digit, `N` 2–9).
    pub phones: &'static [&'static str],
    pub mobiles: &'static [&'static str],
}

pub fn data(l: Locale) -> &'static LocaleData {
    match l {
        Locale::Us => &US,
        Locale::Gb => &GB,
        Locale::Ca => &CA,
        Locale::Br => &BR,
        Locale::In => &IN,
        Locale::Nl => &NL,
        Locale::Es => &ES,
        Locale::Fr => &FR,
    }
}

static US: LocaleData = LocaleData {
    first: &[
        "James",
        "Mary",
        "Robert",
        "Patricia",
        "John",
        "Jennifer",
        "Michael",
        "Linda",
        "David",
        "Elizabeth",
        "William",
        "Barbara",
        "Jane",
        "Susan",
        "Daniel",
        "Jessica",
    ],
    last: &[
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
        "Wilson",
        "Anderson",
        "Taylor",
        "Thomas",
        "Doe",
        "Moore",
    ],
    streets: &[
        "Main St",
        "Oak Ave",
        "Maple Dr",
        "Cedar Ln",
        "Pine St",
        "Elm St",
        "Washington Blvd",
        "Lake View Rd",
    ],
    cities: &[
        ("San Francisco", "CA", "941NN"),
        ("New York", "NY", "100NN"),
        ("Chicago", "IL", "606NN"),
        ("Austin", "TX", "787NN"),
        ("Seattle", "WA", "981NN"),
        ("Boston", "MA", "021NN"),
    ],
    country: "United States",
    domains: &[
        "example.com",
        "example.org",
        "mail.example.com",
        "example.net",
    ],
    phones: &[
        "+1 (415) N99-9999",
        "(212) N99-9999",
        "312-N99-9999",
        "+1 617 N99 9999",
    ],
    mobiles: &["+1 (206) N99-9999", "(512) N99-9999"],
};

static GB: LocaleData = LocaleData {
    first: &[
        "Oliver",
        "Amelia",
        "George",
        "Isla",
        "Harry",
        "Ava",
        "Jack",
        "Emily",
        "Charlotte",
        "Thomas",
        "Sophie",
        "William",
    ],
    last: &[
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
        "Thomas", "Roberts", "Walker",
    ],
    streets: &[
        "High Street",
        "Station Road",
        "Church Lane",
        "Victoria Road",
        "Green Lane",
        "Manor Road",
    ],
    cities: &[
        ("London", "Greater London", "SW1A 9AA"),
        ("Manchester", "Greater Manchester", "M9 9AA"),
        ("Leeds", "West Yorkshire", "LS9 9AA"),
        ("Bristol", "Bristol", "BS9 9AA"),
    ],
    country: "United Kingdom",
    domains: &["example.co.uk", "example.com", "mail.example.org.uk"],
    phones: &["+44 20 7N99 9999", "020 7N99 9999", "+44 161 N99 9999"],
    mobiles: &["+44 7700 9N9999", "07911 N99999", "+44 7400 N99999"],
};

static CA: LocaleData = LocaleData {
    first: &[
        "Liam",
        "Olivia",
        "Noah",
        "Emma",
        "Lucas",
        "Charlotte",
        "Ethan",
        "Chloé",
        "Logan",
        "Maya",
    ],
    last: &[
        "Tremblay",
        "Gagnon",
        "Roy",
        "Côté",
        "Bouchard",
        "Gauthier",
        "Morin",
        "Lavoie",
        "MacDonald",
        "Campbell",
    ],
    streets: &[
        "Rue Sainte-Catherine",
        "Yonge St",
        "Bloor St W",
        "Granville St",
        "Rue Saint-Denis",
    ],
    cities: &[
        ("Toronto", "ON", "M5V A9A"),
        ("Montréal", "QC", "H2X A9A"),
        ("Vancouver", "BC", "V6B A9A"),
        ("Calgary", "AB", "T2P A9A"),
    ],
    country: "Canada",
    domains: &["example.ca", "example.com"],
    phones: &["+1 (416) N99-9999", "(514) N99-9999", "+1 604 N99 9999"],
    mobiles: &["+1 (647) N99-9999", "(438) N99-9999"],
};

static BR: LocaleData = LocaleData {
    first: &[
        "Miguel",
        "Helena",
        "Arthur",
        "Alice",
        "Gael",
        "Laura",
        "Heitor",
        "Valentina",
        "Davi",
        "Beatriz",
    ],
    last: &[
        "Silva",
        "Santos",
        "Oliveira",
        "Souza",
        "Rodrigues",
        "Ferreira",
        "Alves",
        "Pereira",
        "Lima",
        "Gomes",
    ],
    streets: &[
        "Rua das Flores",
        "Avenida Paulista",
        "Rua Augusta",
        "Avenida Atlântica",
        "Rua da Consolação",
    ],
    cities: &[
        ("São Paulo", "SP", "01999-999"),
        ("Rio de Janeiro", "RJ", "20999-999"),
        ("Belo Horizonte", "MG", "30999-999"),
    ],
    country: "Brazil",
    domains: &["example.com.br", "example.com"],
    phones: &["+55 11 3N99-9999", "(21) 2N99-9999"],
    mobiles: &["+55 11 9N999-9999", "(21) 9N999-9999"],
};

static IN: LocaleData = LocaleData {
    first: &[
        "Aarav", "Ananya", "Vivaan", "Diya", "Aditya", "Priya", "Arjun", "Saanvi", "Rohan", "Isha",
    ],
    last: &[
        "Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Mehta", "Das",
    ],
    streets: &[
        "MG Road",
        "Brigade Road",
        "Linking Road",
        "Park Street",
        "Anna Salai",
    ],
    cities: &[
        ("Bengaluru", "Karnataka", "5600NN"),
        ("Mumbai", "Maharashtra", "4000NN"),
        ("Chennai", "Tamil Nadu", "6000NN"),
        ("Kolkata", "West Bengal", "7000NN"),
    ],
    country: "India",
    domains: &["example.in", "example.co.in", "example.com"],
    phones: &["+91 80 2N99 9999", "022 2N99 9999"],
    mobiles: &["+91 98N99 99999", "+91 7N999 99999", "09N99999999"],
};

static NL: LocaleData = LocaleData {
    first: &[
        "Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Levi", "Tess", "Finn", "Sophie",
    ],
    last: &[
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "van Dijk",
        "Bakker",
        "Janssen",
        "Visser",
        "Smit",
        "Meijer",
    ],
    streets: &[
        "Kalverstraat",
        "Damrak",
        "Coolsingel",
        "Oudegracht",
        "Herengracht",
    ],
    cities: &[
        ("Amsterdam", "Noord-Holland", "10NN AA"),
        ("Rotterdam", "Zuid-Holland", "30NN AA"),
        ("Utrecht", "Utrecht", "35NN AA"),
    ],
    country: "Netherlands",
    domains: &["example.nl", "example.com"],
    phones: &["+31 20 N99 9999", "010 N99 9999"],
    mobiles: &["+31 6 N9999999", "06 N9999999"],
};

static ES: LocaleData = LocaleData {
    first: &[
        "Hugo",
        "Lucía",
        "Martín",
        "Sofía",
        "Pablo",
        "María",
        "Alejandro",
        "Paula",
        "Daniel",
        "Carmen",
    ],
    last: &[
        "García",
        "Fernández",
        "González",
        "Rodríguez",
        "López",
        "Martínez",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Ruiz",
    ],
    streets: &[
        "Calle Mayor",
        "Gran Vía",
        "Calle de Alcalá",
        "Paseo de Gracia",
        "Avenida Diagonal",
    ],
    cities: &[
        ("Madrid", "Madrid", "280NN"),
        ("Barcelona", "Barcelona", "080NN"),
        ("Valencia", "Valencia", "460NN"),
        ("Sevilla", "Sevilla", "410NN"),
    ],
    country: "Spain",
    domains: &["example.es", "example.com"],
    phones: &["+34 91 N99 99 99", "93 N99 99 99"],
    mobiles: &["+34 6N9 999 999", "6N9 99 99 99"],
};

static FR: LocaleData = LocaleData {
    first: &[
        "Gabriel", "Louise", "Raphaël", "Jade", "Léo", "Ambre", "Louis", "Chloé", "Jules", "Inès",
    ],
    last: &[
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau",
    ],
    streets: &[
        "rue de Rivoli",
        "avenue des Champs-Élysées",
        "boulevard Saint-Germain",
        "rue de la République",
        "place Bellecour",
    ],
    cities: &[
        ("Paris", "Île-de-France", "750NN"),
        ("Lyon", "Auvergne-Rhône-Alpes", "6900N"),
        ("Marseille", "Provence-Alpes-Côte d'Azur", "130NN"),
        ("Toulouse", "Occitanie", "310NN"),
    ],
    country: "France",
    domains: &["example.fr", "example.com"],
    phones: &["+33 1 N9 99 99 99", "01 N9 99 99 99", "+33 4 N9 99 99 99"],
    mobiles: &["+33 6 N9 99 99 99", "07 N9 99 99 99"],
};
