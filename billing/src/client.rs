//! The client card (ISPadmin "Přidání nového kontaktu", net47 "Karta Klienta"): the record,
//! its defaults and the rules a client must satisfy before it is stored.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::FieldError;
use crate::field::{Text, email, max_len, require, text};

/// Extra variable symbols a client may have besides the client number (ISPadmin: up to 3).
pub const MAX_VARIABLE_SYMBOLS: usize = 3;
/// Billing days are 1-28 so that every month has the day.
pub const MAX_BILLING_DAY: u32 = 28;
pub const DEFAULT_STATUS: &str = "connected";
pub const DEFAULT_INVOICE_GROUP: &str = "default";
pub const DEFAULT_PAYMENT_TYPE: &str = "bank_transfer";
/// The payment type that needs a SIPO number (Czech postal direct debit).
pub const SIPO_PAYMENT_TYPE: &str = "sipo";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    #[default]
    Private,
    Corporate,
    /// A person in business on their own account (Czech OSVČ, BILLmanager "individual
    /// entrepreneur"): a person's name with a company ID and possibly a VAT ID.
    SoleTrader,
}

impl ClientKind {
    pub const ALL: [ClientKind; 3] = [
        ClientKind::Private,
        ClientKind::Corporate,
        ClientKind::SoleTrader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Private => "private",
            ClientKind::Corporate => "corporate",
            ClientKind::SoleTrader => "sole_trader",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Address {
    pub street: String,
    pub postcode: String,
    pub city: String,
    pub country: String,
    pub gps: Option<Gps>,
}

/// Decimal degrees, WGS 84.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Gps {
    pub lat: Decimal,
    pub lon: Decimal,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct BankAccount {
    pub number: String,
    pub iban: String,
    pub bic: String,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ContactPerson {
    pub name: String,
    pub role: String,
    pub email: String,
    pub phone: String,
    pub note: String,
}

/// How the operator sees a client (BILLmanager "Характеристика").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Characteristic {
    #[default]
    Ordinary,
    Good,
    /// A client in dispute with the operator: staff see it before they deal with them.
    Conflict,
}

impl Characteristic {
    pub const ALL: [Characteristic; 3] = [
        Characteristic::Ordinary,
        Characteristic::Good,
        Characteristic::Conflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Characteristic::Ordinary => "ordinary",
            Characteristic::Good => "good",
            Characteristic::Conflict => "conflict",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// How a client came to the operator and how the operator sees them (BILLmanager's client
/// card: referral source, characteristic, referring client, partner programme).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Relationship {
    pub characteristic: Characteristic,
    /// The number of the client who brought this one.
    pub referrer: String,
    /// Where the client heard of the operator ("Откуда вы узнали о нас").
    pub referral_source: String,
    pub partner_programme: String,
}

/// How and when a client is invoiced and chased.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Invoicing {
    pub invoice_group: String,
    pub payment_type: String,
    pub billing_day: u32,
    /// `None`: the global default applies.
    pub due_days: Option<u32>,
    pub send_by_post: bool,
    pub send_by_email: bool,
    pub no_auto_reminders: bool,
    pub proforma: bool,
    pub never_suspend: bool,
    /// Suspend only for invoices overdue more than this many days (ISPadmin per-client
    /// `pozastavit_po_splatnosti`); `None`: `[dunning] suspend_days_after_due` applies.
    pub suspend_after_days: Option<u32>,
    pub variable_symbols: Vec<String>,
    /// Positive = credit, negative = debt carried over on migration.
    pub opening_balance: Decimal,
    pub sipo_number: String,
}

impl Default for Invoicing {
    fn default() -> Self {
        Self {
            invoice_group: DEFAULT_INVOICE_GROUP.into(),
            payment_type: DEFAULT_PAYMENT_TYPE.into(),
            billing_day: 1,
            due_days: None,
            send_by_post: false,
            send_by_email: true,
            no_auto_reminders: false,
            proforma: false,
            never_suspend: false,
            suspend_after_days: None,
            variable_symbols: Vec::new(),
            opening_balance: Decimal::ZERO,
            sipo_number: String::new(),
        }
    }
}

/// A client as stored. `id` and `version` are assigned by storage.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Client {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub kind: ClientKind,
    pub name2: String,
    pub contact_person: String,
    pub address: Address,
    pub floor: String,
    pub flat: String,
    pub id_number: String,
    pub birth_date: Option<NaiveDate>,
    pub company_id: String,
    pub vat_id: String,
    pub email: String,
    pub invoice_email: String,
    pub technical_email: String,
    pub business_email: String,
    pub phone: String,
    pub mobile: String,
    pub fax: String,
    pub website: String,
    pub groups: Vec<String>,
    pub status: String,
    pub installation_address: Option<Address>,
    pub bank_accounts: Vec<BankAccount>,
    pub contract_returned_on: Option<NaiveDate>,
    /// Highlighted in lists, with the reason (ISPadmin "Označit klienta").
    pub highlight: Option<String>,
    pub invoicing: Invoicing,
    pub no_bulk_email: bool,
    pub contact_persons: Vec<ContactPerson>,
    pub note: String,
    pub internal_note_1: String,
    pub internal_note_2: String,
    pub portal_login: String,
    /// The language the client is written to in, as a BCP 47 tag (`cs`, `en`, `pt-BR`);
    /// empty: the operator's.
    pub language: String,
    pub relationship: Relationship,
    /// Where the client registered from (BILLmanager "Registration IP"); set when the card is
    /// created, never changed after. Personal data: erased with the identity.
    pub registration_ip: Option<std::net::IpAddr>,
    pub version: i64,
}

impl Client {
    /// Where invoices are e-mailed: the invoicing address, else the main one.
    pub fn invoice_recipient(&self) -> Option<&str> {
        [&self.invoice_email, &self.email]
            .into_iter()
            .find(|e| !e.is_empty())
            .map(String::as_str)
    }

    /// Fills what the manuals default: status, portal login = client number, groups sorted.
    pub fn apply_defaults(&mut self) {
        if self.status.is_empty() {
            self.status = DEFAULT_STATUS.into();
        }
        if self.portal_login.is_empty() {
            self.portal_login = self.number.clone();
        }
        if self.invoicing.invoice_group.is_empty() {
            self.invoicing.invoice_group = DEFAULT_INVOICE_GROUP.into();
        }
        if self.invoicing.payment_type.is_empty() {
            self.invoicing.payment_type = DEFAULT_PAYMENT_TYPE.into();
        }
        if self.invoicing.billing_day == 0 {
            self.invoicing.billing_day = 1;
        }
        self.groups.sort();
        self.groups.dedup();
    }

    /// What an edit may not change: the registration IP stays what it was at creation.
    pub fn keep_read_only(&mut self, before: &Client) {
        self.registration_ip = before.registration_ip;
    }

    /// The rules of the client card. Postcodes are deliberately not checked: formats differ
    /// between countries.
    pub fn validate(&self) -> Result<(), FieldError> {
        require("client.number", &self.number)?;
        max_len("client.number", &self.number, 32)?;
        crate::field::key("client.number", &self.number)?;
        require("client.name", &self.name)?;
        require("client.address.street", &self.address.street)?;
        require("client.address.postcode", &self.address.postcode)?;
        require("client.address.city", &self.address.city)?;
        if let Some(install) = &self.installation_address {
            require("client.installation_address.street", &install.street)?;
            require("client.installation_address.city", &install.city)?;
        }
        self.validate_lengths()?;
        validate_gps("client.address", self.address.gps)?;
        if let Some(install) = &self.installation_address {
            validate_gps("client.installation_address", install.gps)?;
        }
        for (field, value) in [
            ("client.email", &self.email),
            ("client.invoice_email", &self.invoice_email),
            ("client.technical_email", &self.technical_email),
            ("client.business_email", &self.business_email),
        ] {
            email(field, value)?;
        }
        for (i, person) in self.contact_persons.iter().enumerate() {
            require(&format!("client.contact_persons[{i}].name"), &person.name)?;
            email(&format!("client.contact_persons[{i}].email"), &person.email)?;
        }
        for (i, account) in self.bank_accounts.iter().enumerate() {
            if account.number.trim().is_empty() && account.iban.trim().is_empty() {
                return Err(FieldError::new(
                    format!("client.bank_accounts[{i}]"),
                    "an account number or an IBAN is required",
                ));
            }
            if !account.bic.is_empty() && ![8, 11].contains(&account.bic.len()) {
                return Err(FieldError::new(
                    format!("client.bank_accounts[{i}].bic"),
                    "a BIC has 8 or 11 characters",
                ));
            }
        }
        self.validate_relationship()?;
        self.validate_invoicing()
    }

    /// [`Client::validate`], and the rules that need the day: a client is not born, nor a
    /// contract returned, after `today`.
    pub fn validate_on(&self, today: NaiveDate) -> Result<(), FieldError> {
        self.validate()?;
        for (field, day) in [
            ("client.birth_date", self.birth_date),
            ("client.contract_returned_on", self.contract_returned_on),
        ] {
            if let Some(day) = day.filter(|d| *d > today) {
                return Err(FieldError::new(
                    field,
                    format!("{day} is after today ({today})"),
                ));
            }
        }
        Ok(())
    }

    fn validate_relationship(&self) -> Result<(), FieldError> {
        if !is_language_tag(&self.language) {
            return Err(FieldError::new(
                "client.language",
                "a language tag such as cs, en or pt-BR (2-3 letters, then an optional \
                 2-letter region), or empty",
            ));
        }
        let referrer = &self.relationship.referrer;
        max_len("client.relationship.referrer", referrer, 32)?;
        if !referrer.is_empty() && *referrer == self.number {
            return Err(FieldError::new(
                "client.relationship.referrer",
                "a client cannot have referred itself",
            ));
        }
        Ok(())
    }

    /// Every text field against the limit of its kind, before any other rule quotes it.
    fn validate_lengths(&self) -> Result<(), FieldError> {
        let inv = &self.invoicing;
        for (field, value, kind) in [
            ("client.name", &self.name, Text::Name),
            ("client.name2", &self.name2, Text::Name),
            ("client.contact_person", &self.contact_person, Text::Name),
            ("client.floor", &self.floor, Text::Location),
            ("client.flat", &self.flat, Text::Location),
            ("client.id_number", &self.id_number, Text::Identifier),
            ("client.company_id", &self.company_id, Text::Identifier),
            ("client.vat_id", &self.vat_id, Text::Identifier),
            ("client.email", &self.email, Text::Email),
            ("client.invoice_email", &self.invoice_email, Text::Email),
            ("client.technical_email", &self.technical_email, Text::Email),
            ("client.business_email", &self.business_email, Text::Email),
            ("client.phone", &self.phone, Text::Phone),
            ("client.mobile", &self.mobile, Text::Phone),
            ("client.fax", &self.fax, Text::Phone),
            ("client.website", &self.website, Text::Url),
            ("client.note", &self.note, Text::Remark),
            (
                "client.internal_note_1",
                &self.internal_note_1,
                Text::Remark,
            ),
            (
                "client.internal_note_2",
                &self.internal_note_2,
                Text::Remark,
            ),
            ("client.portal_login", &self.portal_login, Text::Name),
            (
                "client.relationship.referral_source",
                &self.relationship.referral_source,
                Text::Name,
            ),
            (
                "client.relationship.partner_programme",
                &self.relationship.partner_programme,
                Text::Name,
            ),
            (
                "client.invoicing.sipo_number",
                &inv.sipo_number,
                Text::Identifier,
            ),
        ] {
            text(field, value, kind)?;
        }
        if let Some(reason) = &self.highlight {
            text("client.highlight_reason", reason, Text::Note)?;
        }
        address_lengths("client.address", &self.address)?;
        if let Some(install) = &self.installation_address {
            address_lengths("client.installation_address", install)?;
        }
        for (i, p) in self.contact_persons.iter().enumerate() {
            for (name, value, kind) in [
                ("name", &p.name, Text::Name),
                ("role", &p.role, Text::Name),
                ("email", &p.email, Text::Email),
                ("phone", &p.phone, Text::Phone),
                ("note", &p.note, Text::Note),
            ] {
                text(&format!("client.contact_persons[{i}].{name}"), value, kind)?;
            }
        }
        for (i, account) in self.bank_accounts.iter().enumerate() {
            for (name, value) in [("number", &account.number), ("iban", &account.iban)] {
                text(
                    &format!("client.bank_accounts[{i}].{name}"),
                    value,
                    Text::BankAccount,
                )?;
            }
        }
        Ok(())
    }

    fn validate_invoicing(&self) -> Result<(), FieldError> {
        let inv = &self.invoicing;
        if !(1..=MAX_BILLING_DAY).contains(&inv.billing_day) {
            return Err(FieldError::new(
                "client.invoicing.billing_day",
                format!("must be 1-{MAX_BILLING_DAY}"),
            ));
        }
        if inv.due_days.is_some_and(|d| d > 365) {
            return Err(FieldError::new(
                "client.invoicing.due_days",
                "at most 365 days",
            ));
        }
        if inv.suspend_after_days.is_some_and(|d| d > 365) {
            return Err(FieldError::new(
                "client.invoicing.suspend_after_days",
                "at most 365 days",
            ));
        }
        if inv.variable_symbols.len() > MAX_VARIABLE_SYMBOLS {
            return Err(FieldError::new(
                "client.invoicing.variable_symbols",
                format!("at most {MAX_VARIABLE_SYMBOLS} assigned variable symbols"),
            ));
        }
        for (i, vs) in inv.variable_symbols.iter().enumerate() {
            let field = format!("client.invoicing.variable_symbols[{i}]");
            if !is_variable_symbol(vs) {
                return Err(FieldError::new(field, "1-10 digits"));
            }
            if inv.variable_symbols[..i].contains(vs) {
                return Err(FieldError::new(field, format!("{vs} is listed twice")));
            }
        }
        if inv.payment_type == SIPO_PAYMENT_TYPE && inv.sipo_number.trim().is_empty() {
            return Err(FieldError::new(
                "client.invoicing.sipo_number",
                "required when the payment type is sipo",
            ));
        }
        crate::money::to_minor_units("client.invoicing.opening_balance", inv.opening_balance)?;
        Ok(())
    }
}

fn address_lengths(prefix: &str, a: &Address) -> Result<(), FieldError> {
    for (name, value, kind) in [
        ("street", &a.street, Text::Street),
        ("postcode", &a.postcode, Text::Postcode),
        ("city", &a.city, Text::Location),
        ("country", &a.country, Text::Location),
    ] {
        text(&format!("{prefix}.{name}"), value, kind)?;
    }
    Ok(())
}

fn validate_gps(prefix: &str, gps: Option<Gps>) -> Result<(), FieldError> {
    let Some(gps) = gps else { return Ok(()) };
    let within = |v: Decimal, limit: i64| v.abs() <= Decimal::from(limit);
    if !within(gps.lat, 90) {
        return Err(FieldError::new(
            format!("{prefix}.gps_lat"),
            "latitude is -90..90",
        ));
    }
    if !within(gps.lon, 180) {
        return Err(FieldError::new(
            format!("{prefix}.gps_lon"),
            "longitude is -180..180",
        ));
    }
    Ok(())
}

/// A short BCP 47 tag: a 2-3 letter lowercase language, optionally `-` and a 2-letter
/// uppercase region; empty means none.
fn is_language_tag(tag: &str) -> bool {
    if tag.is_empty() {
        return true;
    }
    let (language, region) = match tag.split_once('-') {
        Some((language, region)) => (language, Some(region)),
        None => (tag, None),
    };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Czech bank payments carry a numeric variable symbol of at most 10 digits.
pub fn is_variable_symbol(text: &str) -> bool {
    (1..=10).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// The numeric value of a client number, used to propose the next free one. Numbers with
/// letters ("A-17") take no part in the proposal.
pub fn numeric_value(number: &str) -> Option<i64> {
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// The next free client number after the highest numeric one; "1" for the first client.
pub fn propose_number(highest_numeric: Option<i64>) -> String {
    highest_numeric
        .map_or(1, |n| n.saturating_add(1))
        .to_string()
}

/// Another client sharing an identifier that should be unique: reported, not refused
/// (ISPadmin warns on a reused ID card or company ID and still saves).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Duplicate {
    pub field: &'static str,
    pub other_client: String,
}

impl std::fmt::Display for Duplicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is also used by client {}",
            self.field, self.other_client
        )
    }
}

/// An entry of an editable code list (client groups, statuses, payment types): the code is
/// what client cards store and search for, so it keeps to a plain lowercase alphabet.
pub fn validate_code(code: &str, label: &str) -> Result<(), FieldError> {
    let ok = !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        return Err(FieldError::new(
            "code.code",
            "1-32 characters: lowercase letters, digits, '_' or '-'",
        ));
    }
    crate::field::require("code.label", label)?;
    crate::field::text("code.label", label, crate::field::Text::Name)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_kinds_are_stored_by_name() {
        let names: Vec<_> = ClientKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["private", "corporate", "sole_trader"]);
        for kind in ClientKind::ALL {
            assert_eq!(ClientKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ClientKind::parse("company"), None);
    }

    fn valid() -> Client {
        let mut client = Client {
            number: "1001".into(),
            name: "Novák Jan".into(),
            address: Address {
                street: "Dlouhá 12".into(),
                postcode: "110 00".into(),
                city: "Praha".into(),
                ..Address::default()
            },
            ..Client::default()
        };
        client.apply_defaults();
        client
    }

    fn refused(edit: impl FnOnce(&mut Client)) -> String {
        let mut client = valid();
        edit(&mut client);
        client.validate().unwrap_err().field
    }

    #[test]
    fn language_referrer_and_the_registration_ip() {
        let cases: [(&str, &str, Option<&str>); 9] = [
            // (language, referrer) → the field refused, if any
            ("", "", None),
            ("cs", "", None),
            ("pt-BR", "", None),
            ("ces", "1002", None),
            ("CS", "", Some("client.language")),
            ("c", "", Some("client.language")),
            ("pt-br", "", Some("client.language")),
            ("cs-", "", Some("client.language")),
            ("cs", "1001", Some("client.relationship.referrer")),
        ];
        for (language, referrer, expected) in cases {
            let mut client = valid();
            client.language = language.into();
            client.relationship.referrer = referrer.into();
            let got = client.validate().err().map(|e| e.field);
            assert_eq!(got.as_deref(), expected, "{language:?} {referrer:?}");
        }
        let mut before = valid();
        before.registration_ip = Some("192.0.2.7".parse().unwrap());
        let mut edited = before.clone();
        edited.registration_ip = Some("198.51.100.1".parse().unwrap());
        edited.relationship.characteristic = Characteristic::Conflict;
        edited.keep_read_only(&before);
        assert_eq!(edited.registration_ip, before.registration_ip);
        assert_eq!(edited.relationship.characteristic, Characteristic::Conflict);
    }

    /// Found probing from outside: a birth date in the future was stored.
    #[test]
    fn no_one_is_born_after_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let on = |birth: Option<NaiveDate>, returned: Option<NaiveDate>| {
            let client = Client {
                birth_date: birth,
                contract_returned_on: returned,
                ..valid()
            };
            client.validate_on(today).err().map(|e| e.field)
        };
        let tomorrow = today.succ_opt();
        assert_eq!(on(Some(today), Some(today)), None);
        assert_eq!(on(tomorrow, None).as_deref(), Some("client.birth_date"));
        assert_eq!(
            on(None, tomorrow).as_deref(),
            Some("client.contract_returned_on")
        );
    }

    #[test]
    fn minimal_client_is_valid_with_manual_defaults() {
        let client = valid();
        assert_eq!(client.validate(), Ok(()));
        assert_eq!(client.status, "connected");
        assert_eq!(client.portal_login, "1001");
        assert_eq!(client.invoicing.billing_day, 1);
        assert!(client.invoicing.send_by_email);
    }

    #[test]
    fn every_text_field_is_limited_by_its_kind() {
        type Set = fn(&mut Client, String);
        let cases: &[(&str, Text, Set)] = &[
            ("client.name", Text::Name, |c, v| c.name = v),
            ("client.name2", Text::Name, |c, v| c.name2 = v),
            ("client.contact_person", Text::Name, |c, v| {
                c.contact_person = v
            }),
            ("client.address.street", Text::Street, |c, v| {
                c.address.street = v
            }),
            ("client.address.postcode", Text::Postcode, |c, v| {
                c.address.postcode = v
            }),
            ("client.address.city", Text::Location, |c, v| {
                c.address.city = v
            }),
            ("client.address.country", Text::Location, |c, v| {
                c.address.country = v
            }),
            (
                "client.installation_address.street",
                Text::Street,
                |c, v| {
                    c.installation_address = Some(Address {
                        street: v,
                        city: "Brno".into(),
                        ..Address::default()
                    })
                },
            ),
            ("client.floor", Text::Location, |c, v| c.floor = v),
            ("client.flat", Text::Location, |c, v| c.flat = v),
            ("client.id_number", Text::Identifier, |c, v| c.id_number = v),
            ("client.company_id", Text::Identifier, |c, v| {
                c.company_id = v
            }),
            ("client.vat_id", Text::Identifier, |c, v| c.vat_id = v),
            ("client.email", Text::Email, |c, v| c.email = v),
            ("client.invoice_email", Text::Email, |c, v| {
                c.invoice_email = v
            }),
            ("client.technical_email", Text::Email, |c, v| {
                c.technical_email = v
            }),
            ("client.business_email", Text::Email, |c, v| {
                c.business_email = v
            }),
            ("client.phone", Text::Phone, |c, v| c.phone = v),
            ("client.mobile", Text::Phone, |c, v| c.mobile = v),
            ("client.fax", Text::Phone, |c, v| c.fax = v),
            ("client.website", Text::Url, |c, v| c.website = v),
            ("client.note", Text::Remark, |c, v| c.note = v),
            ("client.internal_note_1", Text::Remark, |c, v| {
                c.internal_note_1 = v
            }),
            ("client.internal_note_2", Text::Remark, |c, v| {
                c.internal_note_2 = v
            }),
            ("client.portal_login", Text::Name, |c, v| c.portal_login = v),
            ("client.relationship.referral_source", Text::Name, |c, v| {
                c.relationship.referral_source = v
            }),
            (
                "client.relationship.partner_programme",
                Text::Name,
                |c, v| c.relationship.partner_programme = v,
            ),
            ("client.highlight_reason", Text::Note, |c, v| {
                c.highlight = Some(v)
            }),
            ("client.invoicing.sipo_number", Text::Identifier, |c, v| {
                c.invoicing.sipo_number = v
            }),
            ("client.contact_persons[0].role", Text::Name, |c, v| {
                c.contact_persons = vec![ContactPerson {
                    name: "Petr".into(),
                    role: v,
                    ..ContactPerson::default()
                }]
            }),
            ("client.contact_persons[0].note", Text::Note, |c, v| {
                c.contact_persons = vec![ContactPerson {
                    name: "Petr".into(),
                    note: v,
                    ..ContactPerson::default()
                }]
            }),
            ("client.bank_accounts[0].iban", Text::BankAccount, |c, v| {
                c.bank_accounts = vec![BankAccount {
                    iban: v,
                    ..BankAccount::default()
                }]
            }),
        ];
        for (field, kind, set) in cases {
            // An e-mail field's value must still look like an address when it fits.
            let value = |n: usize| match *kind {
                Text::Email => format!("{}@b.cz", "a".repeat(n - 5)),
                _ => "7".repeat(n),
            };
            let mut fits = valid();
            set(&mut fits, value(kind.max()));
            assert_eq!(fits.validate(), Ok(()), "{field} at its limit");
            let mut over = valid();
            set(&mut over, value(kind.max() + 1));
            let err = over.validate().unwrap_err();
            assert_eq!(err.field, *field);
            assert_eq!(err.problem, format!("at most {} characters", kind.max()));
        }
    }

    #[test]
    fn required_fields_are_named() {
        assert_eq!(refused(|c| c.number.clear()), "client.number");
        assert_eq!(refused(|c| c.name = " ".into()), "client.name");
        assert_eq!(
            refused(|c| c.address.street.clear()),
            "client.address.street"
        );
        assert_eq!(
            refused(|c| c.address.postcode.clear()),
            "client.address.postcode"
        );
        assert_eq!(refused(|c| c.address.city.clear()), "client.address.city");
    }

    #[test]
    fn postcode_format_is_not_checked() {
        for postcode in ["110 00", "00-950", "SW1A 1AA", "12345-678", "x"] {
            let mut client = valid();
            client.address.postcode = postcode.into();
            assert_eq!(client.validate(), Ok(()), "{postcode}");
        }
    }

    #[test]
    fn field_rules() {
        assert_eq!(refused(|c| c.email = "novak".into()), "client.email");
        assert_eq!(
            refused(|c| c.invoice_email = "x@".into()),
            "client.invoice_email"
        );
        assert_eq!(
            refused(|c| c.invoicing.billing_day = 29),
            "client.invoicing.billing_day"
        );
        assert_eq!(
            refused(|c| c.invoicing.suspend_after_days = Some(366)),
            "client.invoicing.suspend_after_days"
        );
        assert_eq!(
            refused(|c| c.invoicing.variable_symbols =
                vec!["1".into(), "2".into(), "3".into(), "4".into()]),
            "client.invoicing.variable_symbols"
        );
        assert_eq!(
            refused(|c| c.invoicing.variable_symbols = vec!["12a".into()]),
            "client.invoicing.variable_symbols[0]"
        );
        assert_eq!(
            refused(|c| c.invoicing.variable_symbols = vec!["7".into(), "7".into()]),
            "client.invoicing.variable_symbols[1]"
        );
        assert_eq!(
            refused(|c| c.contact_persons.push(ContactPerson::default())),
            "client.contact_persons[0].name"
        );
        assert_eq!(
            refused(|c| c.bank_accounts.push(BankAccount {
                number: "123/0800".into(),
                bic: "GIBA".into(),
                ..BankAccount::default()
            })),
            "client.bank_accounts[0].bic"
        );
        assert_eq!(
            refused(|c| c.invoicing.payment_type = SIPO_PAYMENT_TYPE.into()),
            "client.invoicing.sipo_number"
        );
        assert_eq!(
            refused(|c| c.address.gps = Some(Gps {
                lat: Decimal::from(91),
                lon: Decimal::ZERO
            })),
            "client.address.gps_lat"
        );
        assert_eq!(refused(|c| c.number = "10 01".into()), "client.number");
        // Printed like "1001", but another key; an escape rewrites the operator's terminal.
        for unseen in [
            "1001\u{200B}",
            "10\u{1b}[2J01",
            "\u{FEFF}1001",
            "1001\u{202E}",
        ] {
            assert_eq!(refused(|c| c.number = unseen.into()), "client.number");
        }
    }

    #[test]
    fn three_variable_symbols_are_allowed() {
        let mut client = valid();
        client.invoicing.variable_symbols = vec!["11".into(), "12".into(), "13".into()];
        assert_eq!(client.validate(), Ok(()));
    }

    #[test]
    fn invoices_go_to_invoice_email_else_main() {
        let mut client = valid();
        assert_eq!(client.invoice_recipient(), None);
        client.email = "main@example.cz".into();
        assert_eq!(client.invoice_recipient(), Some("main@example.cz"));
        client.invoice_email = "ucetni@example.cz".into();
        assert_eq!(client.invoice_recipient(), Some("ucetni@example.cz"));
    }

    #[test]
    fn next_number_proposal() {
        assert_eq!(propose_number(None), "1");
        assert_eq!(propose_number(Some(1041)), "1042");
        assert_eq!(numeric_value("1041"), Some(1041));
        assert_eq!(numeric_value("A-17"), None);
        assert_eq!(numeric_value(""), None);
        assert_eq!(numeric_value("99999999999999999999999"), None);
    }
}
