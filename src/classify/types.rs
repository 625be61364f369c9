//! The data type vocabulary: names shared with the emulator's ground truth, taxonomy
//! categories, and how much a validated hit of each type is worth on its own.
//!
//! A [`TypeSet`] is a bitset over [`DataType`] so per-value findings cost no allocation.

use std::fmt;

/// How much one validated value proves on its own, before prevalence and metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// A checksum or an unambiguous structure (email, IBAN, card with issuer, CPF, …).
    Strong,
    /// A structure that other data can share (phone, URL, plain 9-digit ids, dates).
    Medium,
    /// Lexicon or shape only (names, cities, postal codes, gender, hinted ids).
    Weak,
}

macro_rules! data_types {
    ($( $variant:ident => $name:literal, $category:literal, $strength:ident; )*) => {
        /// One kind of personal data.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum DataType { $( $variant, )* }

        impl DataType {
            /// Every type, in a stable order.
            pub const ALL: &'static [DataType] = &[ $( DataType::$variant, )* ];

            /// The shared vocabulary name, e.g. `email`.
            pub fn name(self) -> &'static str {
                match self { $( DataType::$variant => $name, )* }
            }

            /// Taxonomy category, e.g. `user.contact.email`.
            pub fn category(self) -> &'static str {
                match self { $( DataType::$variant => $category, )* }
            }

            pub fn strength(self) -> Strength {
                match self { $( DataType::$variant => Strength::$strength, )* }
            }

            pub fn from_name(name: &str) -> Option<DataType> {
                match name { $( $name => Some(DataType::$variant), )* _ => None }
            }
        }
    };
}

data_types! {
    Email => "email", "user.contact.email", Strong;
    Phone => "phone", "user.contact.phone_number", Medium;
    PersonName => "person_name", "user.name", Weak;
    StreetAddress => "street_address", "user.contact.address.street", Medium;
    City => "city", "user.contact.address.city", Weak;
    State => "state", "user.contact.address.state", Weak;
    PostalCode => "postal_code", "user.contact.address.postal_code", Weak;
    Country => "country", "user.contact.address.country", Weak;
    CreditCard => "credit_card", "user.financial.credit_card", Strong;
    Iban => "iban", "user.financial.bank_account.iban", Strong;
    UsSsn => "us_ssn", "user.government_id.national_identification_number.us_ssn", Medium;
    UsItin => "us_itin", "user.government_id.tax_id.us_itin", Medium;
    AbaRouting => "aba_routing", "user.financial.bank_account.routing_number", Medium;
    UkNino => "uk_nino", "user.government_id.national_identification_number.uk_nino", Strong;
    CaSin => "ca_sin", "user.government_id.national_identification_number.ca_sin", Medium;
    BrCpf => "br_cpf", "user.government_id.tax_id.br_cpf", Strong;
    InAadhaar => "in_aadhaar", "user.government_id.national_identification_number.in_aadhaar", Strong;
    NlBsn => "nl_bsn", "user.government_id.national_identification_number.nl_bsn", Medium;
    EsNif => "es_nif", "user.government_id.tax_id.es_nif", Strong;
    FrInsee => "fr_insee", "user.government_id.national_identification_number.fr_insee", Strong;
    PassportNumber => "passport_number", "user.government_id.passport_number", Weak;
    DriversLicense => "drivers_license", "user.government_id.drivers_license_number", Weak;
    DateOfBirth => "date_of_birth", "user.demographic.date_of_birth", Medium;
    IpAddress => "ip_address", "user.device.ip_address", Strong;
    MacAddress => "mac_address", "user.device.mac_address", Strong;
    Url => "url", "user.contact.url", Medium;
    Geolocation => "geolocation", "user.location.precise", Medium;
    Gender => "gender", "user.demographic.gender", Weak;
    Credential => "credential", "user.authorization.credentials", Strong;
}

/// Number of data types (the size of per-field counter arrays).
pub const COUNT: usize = DataType::ALL.len();

impl DataType {
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of data types (bitset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TypeSet(u32);

impl TypeSet {
    pub const EMPTY: TypeSet = TypeSet(0);

    pub fn of(types: &[DataType]) -> Self {
        let mut s = TypeSet::EMPTY;
        for &t in types {
            s.insert(t);
        }
        s
    }
    pub fn insert(&mut self, t: DataType) {
        self.0 |= 1 << t.index();
    }
    pub fn remove(&mut self, t: DataType) {
        self.0 &= !(1 << t.index());
    }
    pub fn contains(self, t: DataType) -> bool {
        self.0 & (1 << t.index()) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn union(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 | other.0)
    }
    pub fn intersection(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 & other.0)
    }
    pub fn difference(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 & !other.0)
    }
    pub fn iter(self) -> impl Iterator<Item = DataType> {
        DataType::ALL
            .iter()
            .copied()
            .filter(move |t| self.contains(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_fit_the_bitset() {
        const { assert!(COUNT <= 32) };
        for &t in DataType::ALL {
            assert_eq!(DataType::from_name(t.name()), Some(t));
            assert!(t.category().starts_with("user."));
        }
        assert_eq!(DataType::from_name("nope"), None);
    }

    #[test]
    fn typeset_operations() {
        let mut s = TypeSet::of(&[DataType::Email, DataType::Phone]);
        assert!(s.contains(DataType::Email) && !s.contains(DataType::Url));
        s.remove(DataType::Email);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![DataType::Phone]);
    }
}
