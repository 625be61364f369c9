//! Compact lexicons shipped as source: given names and surnames across locales, place names,
//! street words, company suffixes, gender terms. Loaded once into hash sets of lowercase ASCII
//! folds, so lookups are case- and accent-insensitive ("JOSÉ" finds "jose").
//!
//! They are deliberately small (a few thousand words): the detectors use them for evidence
//! that a column holds names or places, never as the only proof for a single value.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const FIRST_NAMES: &str = "
james john robert michael william david richard joseph thomas charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward
jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin
samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry
douglas zachary peter kyle ethan walter noah jeremy christian keith roger terry gerald harold sean
austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel logan albert willie
alan juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis liam oliver
lucas owen caleb luke isaac hunter connor evan ian colin max leo miles jake
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret
sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca
sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha
katherine christine debra rachel carolyn janet catherine maria heather diane ruth julie olivia
joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea cheryl hannah
jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice judy
sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany
charlotte marie kayla alexis lori jane jenny chloe ava mia harper ella zoe lily nora hazel
aria layla riley ellie stella lucy claire violet aurora savannah audrey brooklyn bella
jan piet kees henk joost bram sander thijs daan ruben lars jeroen maarten willem sanne anouk
femke lotte fleur eva iris lisa annelies marieke ingrid
hans klaus jurgen stefan andreas wolfgang dieter uwe lukas felix jonas leon maximilian moritz
tobias florian sebastian matthias katrin ursula petra sabine monika birgit heike anja julia lena
laura leonie marie johanna greta frieda
jean pierre michel philippe alain nicolas francois jacques bernard christophe olivier thierry
julien antoine mathieu guillaume sebastien hugo louis gabriel arthur raphael nathalie isabelle
sylvie catherine valerie sandrine celine aurelie camille manon chloe ines louise juliette margaux
jose antonio manuel francisco juan javier carlos miguel rafael pedro alejandro fernando pablo
jorge luis sergio alberto diego andres ricardo eduardo mario enrique raul oscar ramon santiago
mateo matias sebastian maria carmen ana isabel dolores pilar teresa rosa lucia paula elena sofia
marta cristina raquel beatriz alba valentina camila daniela gabriela fernanda mariana
joao pedro lucas gabriel rafael gustavo felipe bruno thiago rodrigo leonardo vinicius matheus
ana beatriz larissa leticia juliana fernanda amanda bruna carolina
giuseppe giovanni antonio mario luigi francesco angelo vincenzo pietro salvatore carlo franco
domenico bruno paolo marco alessandro andrea luca matteo lorenzo davide simone federico giulia
francesca chiara sara martina alessia elisa silvia valentina giorgia
ivan dmitri sergei alexei andrei mikhail nikolai vladimir olga natalia elena tatiana svetlana
irina anastasia ekaterina piotr tomasz krzysztof pawel michal marcin katarzyna agnieszka
magdalena malgorzata joanna
rahul amit raj sanjay vijay anil sunil rajesh suresh ramesh arjun rohan vikram aditya arun ravi
deepak manish priya anjali pooja neha sneha kavya divya lakshmi sunita anita meera ananya aisha
wei fang ming lei jun hui jing li yan hong xin yu hao jie tao yang chen ying xiu lan
hiroshi takashi kenji yuki haruto sota ren yuto akira satoshi naoki yuka sakura hina yui aoi
mei haruka ayaka misaki
min ji seo jun hyun woo jae sung hye jin young soo eun
mohammed muhammad ahmed ali omar hassan hussein ibrahim yusuf khalid abdullah mustafa karim
tariq fatima aisha zainab mariam layla nour yasmin amira sara huda salma leila
kwame kofi chinedu emeka oluwaseun tunde adebayo amara chioma ngozi aminata fatou
lars erik anders johan karl nils olof per sven magnus ingrid astrid karin kerstin sigrid freya
helena heitor davi gael isla amelia oliver harry sophie maya
sean patrick liam niamh siobhan aoife ciara saoirse
";

const LAST_NAMES: &str = "
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark
ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams
nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker
cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper
peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james
bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster
jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher
vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace moreno
west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall
owens harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb
tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder mason
dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren
mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne
grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters santos hart bradley knight
elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry
perkins hoffman johnston matthews pena richards willis carpenter lawrence sandoval
muller mueller schneider fischer weber meyer wagner becker schulz hoffmann schafer koch bauer
richter klein wolf schroder neumann schwarz zimmermann braun kruger hofmann hartmann lange
werner krause lehmann kohler
dubois durand leroy moreau simon laurent lefebvre michel garcia david bertrand roux vincent
fournier morel girard andre lefevre mercier dupont lambert bonnet francois martinez legrand
de jong jansen bakker visser smit meijer boer mulder bos vos peters hendriks dekker brouwer
dijkstra vermeulen
rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti
de luca mancini costa giordano rizzo lombardi moretti
fernandez gonzalez rodriguez lopez martinez sanchez perez gomez martin jimenez ruiz hernandez
diaz moreno alvarez munoz romero alonso gutierrez navarro torres dominguez vazquez ramos gil
ramirez serrano blanco molina suarez ortega delgado castro ortiz rubio marin sanz iglesias
silva santos oliveira souza rodrigues ferreira alves pereira lima gomes ribeiro carvalho almeida
lopes soares fernandes vieira barbosa rocha dias nascimento andrade moreira nunes marques
machado mendes freitas cardoso
ivanov smirnov kuznetsov popov vasiliev petrov sokolov mikhailov novikov fedorov morozov volkov
nowak kowalski wisniewski wojcik kowalczyk kaminski lewandowski zielinski szymanski
sharma verma gupta singh kumar patel shah mehta joshi reddy rao iyer nair menon pillai das
chatterjee banerjee mukherjee bose ghosh sen agarwal malhotra kapoor chopra desai jain
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin gao luo zheng liang
xie song tang
sato suzuki takahashi tanaka watanabe ito yamamoto nakamura kobayashi kato yoshida yamada sasaki
yamaguchi matsumoto inoue kimura hayashi shimizu
kim lee park choi jung kang cho yoon jang lim han oh seo shin kwon hwang ahn song
nguyen tran le pham hoang phan vu dang bui do ho ngo duong ly
ali khan ahmed hassan hussein rahman malik sheikh abbas haddad nasser saleh mansour
okafor okonkwo adeyemi mensah owusu boateng diallo traore kone ndiaye
andersson johansson karlsson nilsson eriksson larsson olsson persson svensson gustafsson
hansen johansen olsen larsen jensen nielsen pedersen christensen
tremblay gagnon roy cote bouchard gauthier morin lavoie macdonald davies evans
murphy kelly byrne ryan walsh o'brien o'connor o'sullivan mccarthy doyle
";

const COMPANY_WORDS: &str = "
inc incorporated llc llp ltd limited corp corporation co company companies plc gmbh ag sa sas sarl
bv nv oy ab as spa srl pty kk group holdings holding partners associates solutions systems
technologies technology tech services consulting international global industries enterprises
bank capital labs software networks media foundation trust university college school hospital
clinic agency studio store shop market foods motors energy logistics pharma ventures
";

const GENDER_TERMS: &str = "
male female man woman m f non-binary nonbinary non binary other unknown prefer not to say
undisclosed agender genderqueer transgender trans intersex diverse divers masculino femenino
masculin feminin mannlich weiblich männlich
";

const STREET_WORDS: &str = "
street st avenue ave road rd boulevard blvd lane ln drive dr way court ct place pl terrace ter
circle cir parkway pkwy highway hwy square sq trail trl crescent close gardens grove row mews
alley walk loop plaza
strasse straße str weg allee platz gasse ring damm ufer
rue avenue boulevard chemin impasse allee quai place
calle avenida carrera paseo plaza camino
rua avenida travessa largo praca
via viale piazza corso vicolo
straat laan weg plein gracht kade singel
";

const US_STATES: &str = "
alabama al alaska ak arizona az arkansas ar california ca colorado co connecticut ct delaware de
florida fl georgia ga hawaii hi idaho id illinois il indiana in iowa ia kansas ks kentucky ky
louisiana la maine me maryland md massachusetts ma michigan mi minnesota mn mississippi ms
missouri mo montana mt nebraska ne nevada nv new_hampshire nh new_jersey nj new_mexico nm
new_york ny north_carolina nc north_dakota nd ohio oh oklahoma ok oregon or pennsylvania pa
rhode_island ri south_carolina sc south_dakota sd tennessee tn texas tx utah ut vermont vt
virginia va washington wa west_virginia wv wisconsin wi wyoming wy district_of_columbia dc
puerto_rico pr
alberta ab british_columbia bc manitoba mb new_brunswick nb newfoundland_and_labrador nl
nova_scotia ns ontario on prince_edward_island pe quebec qc saskatchewan sk yukon yt
northwest_territories nt nunavut nu
new_south_wales nsw victoria vic queensland qld western_australia wa south_australia sa
tasmania tas
bavaria bayern berlin hamburg hesse hessen saxony sachsen
ile-de-france normandie bretagne provence occitanie
catalonia cataluna andalusia andalucia madrid galicia valencia
lombardy lombardia lazio tuscany toscana sicily sicilia
sao_paulo rio_de_janeiro minas_gerais bahia parana sp rj mg
maharashtra karnataka tamil_nadu kerala gujarat rajasthan uttar_pradesh west_bengal delhi telangana
england scotland wales northern_ireland
jalisco nuevo_leon yucatan
";

/// Country names and ISO 3166 alpha-2 codes, `name:code` (underscores stand for spaces).
const COUNTRIES: &str = "
united_states:US usa:US us:US united_states_of_america:US america:US canada:CA mexico:MX
united_kingdom:GB uk:GB great_britain:GB england:GB scotland:GB wales:GB ireland:IE
germany:DE deutschland:DE france:FR spain:ES espana:ES italy:IT italia:IT portugal:PT
netherlands:NL the_netherlands:NL holland:NL nederland:NL belgium:BE luxembourg:LU
switzerland:CH austria:AT denmark:DK sweden:SE norway:NO finland:FI iceland:IS poland:PL
czech_republic:CZ czechia:CZ slovakia:SK hungary:HU romania:RO bulgaria:BG greece:GR
croatia:HR slovenia:SI serbia:RS ukraine:UA russia:RU russian_federation:RU turkey:TR
turkiye:TR israel:IL egypt:EG south_africa:ZA nigeria:NG kenya:KE ghana:GH morocco:MA
ethiopia:ET brazil:BR brasil:BR argentina:AR chile:CL colombia:CO peru:PE venezuela:VE
uruguay:UY ecuador:EC bolivia:BO paraguay:PY costa_rica:CR panama:PA cuba:CU
dominican_republic:DO puerto_rico:PR jamaica:JM guatemala:GT honduras:HN el_salvador:SV
india:IN pakistan:PK bangladesh:BD sri_lanka:LK nepal:NP china:CN hong_kong:HK taiwan:TW
japan:JP south_korea:KR korea:KR north_korea:KP vietnam:VN viet_nam:VN thailand:TH
malaysia:MY singapore:SG indonesia:ID philippines:PH australia:AU new_zealand:NZ
saudi_arabia:SA united_arab_emirates:AE uae:AE qatar:QA kuwait:KW bahrain:BH oman:OM
iran:IR iraq:IQ jordan:JO lebanon:LB syria:SY afghanistan:AF kazakhstan:KZ uzbekistan:UZ
estonia:EE latvia:LV lithuania:LT belarus:BY moldova:MD georgia:GE armenia:AM azerbaijan:AZ
cyprus:CY malta:MT monaco:MC liechtenstein:LI andorra:AD tunisia:TN algeria:DZ senegal:SN
cameroon:CM ivory_coast:CI cote_d'ivoire:CI tanzania:TZ uganda:UG zimbabwe:ZW zambia:ZM
";

/// Large cities across regions; a hint for city columns, not the only proof.
const CITIES: &str = "
new_york los_angeles chicago houston phoenix philadelphia san_antonio san_diego dallas san_jose
austin jacksonville fort_worth columbus charlotte san_francisco indianapolis seattle denver
washington boston el_paso nashville detroit oklahoma_city portland las_vegas memphis louisville
baltimore milwaukee albuquerque tucson fresno sacramento kansas_city mesa atlanta omaha
colorado_springs raleigh miami long_beach virginia_beach oakland minneapolis tulsa tampa
arlington new_orleans cleveland honolulu anaheim orlando pittsburgh cincinnati st_louis
salt_lake_city buffalo newark madison boise spokane richmond des_moines rochester hartford
toronto montreal vancouver calgary edmonton ottawa winnipeg quebec_city hamilton halifax victoria
mexico_city guadalajara monterrey tijuana puebla cancun
london manchester birmingham leeds glasgow liverpool edinburgh bristol sheffield cardiff belfast
newcastle nottingham leicester cambridge oxford dublin cork galway
berlin hamburg munich munchen cologne koln frankfurt stuttgart dusseldorf dortmund essen leipzig
bremen dresden hanover hannover nuremberg
paris marseille lyon toulouse nice nantes strasbourg montpellier bordeaux lille rennes reims
madrid barcelona valencia seville sevilla zaragoza malaga bilbao palma murcia
lisbon lisboa porto rome roma milan milano naples napoli turin torino palermo genoa florence
firenze bologna venice venezia
amsterdam rotterdam the_hague den_haag utrecht eindhoven groningen brussels antwerp ghent
luxembourg zurich geneva basel bern vienna wien salzburg copenhagen stockholm gothenburg oslo
bergen helsinki reykjavik warsaw krakow gdansk wroclaw prague brno budapest bucharest sofia
athens thessaloniki istanbul ankara izmir moscow saint_petersburg kyiv kiev minsk riga vilnius
tallinn belgrade zagreb ljubljana
tel_aviv jerusalem cairo alexandria lagos abuja nairobi accra johannesburg cape_town durban
casablanca tunis addis_ababa dakar
sao_paulo rio_de_janeiro brasilia salvador fortaleza belo_horizonte curitiba recife porto_alegre
buenos_aires cordoba rosario santiago lima bogota medellin cali caracas quito montevideo
mumbai delhi new_delhi bangalore bengaluru hyderabad ahmedabad chennai kolkata pune jaipur surat
lucknow kanpur karachi lahore islamabad dhaka colombo kathmandu
beijing shanghai guangzhou shenzhen chengdu wuhan hangzhou nanjing xian tianjin hong_kong taipei
tokyo osaka yokohama nagoya sapporo kobe kyoto fukuoka seoul busan incheon
bangkok hanoi ho_chi_minh_city singapore kuala_lumpur jakarta manila
sydney melbourne brisbane perth adelaide canberra auckland wellington christchurch
dubai abu_dhabi doha riyadh jeddah kuwait_city muscat tehran baghdad amman beirut
springfield franklin greenville bristol clinton fairview salem madison georgetown
";

fn fold_set(list: &str) -> HashSet<String> {
    list.split_whitespace()
        .map(|w| fold(&w.replace('_', " ")))
        .collect()
}

pub static FIRST: LazyLock<HashSet<String>> = LazyLock::new(|| fold_set(FIRST_NAMES));
pub static LAST: LazyLock<HashSet<String>> = LazyLock::new(|| fold_set(LAST_NAMES));
pub static COMPANY: LazyLock<HashSet<String>> = LazyLock::new(|| fold_set(COMPANY_WORDS));
pub static STREET: LazyLock<HashSet<String>> = LazyLock::new(|| fold_set(STREET_WORDS));
pub static CITY: LazyLock<HashSet<String>> = LazyLock::new(|| fold_set(CITIES));
pub static STATE: LazyLock<HashSet<String>> = LazyLock::new(|| fold_set(US_STATES));
pub static GENDER: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut s = fold_set(GENDER_TERMS);
    s.insert("prefer not to say".into());
    s.insert("non binary".into());
    s
});
/// Country name or code → ISO alpha-2 (the phone region).
pub static COUNTRY: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for pair in COUNTRIES.split_whitespace() {
        if let Some((name, code)) = pair.split_once(':') {
            m.insert(fold(&name.replace('_', " ")), code.to_string());
            m.insert(code.to_ascii_lowercase(), code.to_string());
        }
    }
    m
});

/// Lowercase, accents stripped (Latin-1 and Latin Extended-A letters), whitespace collapsed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        let base = match c {
            'À'..='Å' | 'à'..='å' | 'Ā'..='ą' => 'a',
            'Ç' | 'ç' | 'Ć'..='č' => 'c',
            'È'..='Ë' | 'è'..='ë' | 'Ē'..='ě' => 'e',
            'Ì'..='Ï' | 'ì'..='ï' | 'Ĩ'..='ı' => 'i',
            'Ñ' | 'ñ' | 'Ń'..='ň' => 'n',
            'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō'..='ő' => 'o',
            'Ù'..='Ü' | 'ù'..='ü' | 'Ũ'..='ų' => 'u',
            'Ý' | 'ý' | 'ÿ' => 'y',
            'Ś'..='š' => 's',
            'Ź'..='ž' => 'z',
            'Ł' | 'ł' => 'l',
            'ß' => {
                out.push_str("ss");
                continue;
            }
            _ => c,
        };
        out.extend(base.to_lowercase());
    }
    out
}

/// ISO region of a country value ("Deutschland", "DE", "United States"), for phone parsing.
pub fn country_code(value: &str) -> Option<&'static str> {
    COUNTRY.get(&fold(value)).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("  JOSÉ   Müller "), "jose muller");
        assert_eq!(fold("Straße"), "strasse");
        assert!(FIRST.contains("jose"));
        assert!(LAST.contains(&fold("MÜLLER")));
    }

    #[test]
    fn lexicons_cover_locales() {
        for n in ["priya", "hiroshi", "fatima", "sven", "giulia", "wei"] {
            assert!(FIRST.contains(n), "{n}");
        }
        for n in ["nguyen", "sharma", "tanaka", "kowalski", "silva"] {
            assert!(LAST.contains(n), "{n}");
        }
        assert!(!FIRST.contains("invoice"));
    }

    #[test]
    fn countries_map_to_regions() {
        assert_eq!(country_code("Deutschland"), Some("DE"));
        assert_eq!(country_code("united states"), Some("US"));
        assert_eq!(country_code("gb"), Some("GB"));
        assert_eq!(country_code("Atlantis"), None);
        assert!(CITY.contains("sao paulo"));
        assert!(STATE.contains("new york"));
    }
}
