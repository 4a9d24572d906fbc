//! Erasing a client's personal data on request (GDPR art. 17), by category. What the law
//! makes the ISP keep stays: the client number and name, the company and VAT IDs, the
//! invoicing settings, and every financial record (documents keep their own snapshot of the
//! client, payments their payer). The same fields are blanked in the client's audit history,
//! so the log does not keep what the card no longer does.

use crate::client::{Address, Client};

/// A category of personal data on the client card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// E-mails, phones, fax, website, the contact person and contact persons.
    Contact,
    /// ID card number, birth date and the IP address the client registered from.
    Identity,
    /// Postal and installation address (street, postcode, city, GPS, floor, flat); the country
    /// stays.
    Address,
    /// Bank accounts on the card (payments already received keep their payer's account).
    Bank,
    /// The notes, internal notes and the highlight reason, which may say anything.
    Notes,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Contact,
        Category::Identity,
        Category::Address,
        Category::Bank,
        Category::Notes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Contact => "contact",
            Category::Identity => "identity",
            Category::Address => "address",
            Category::Bank => "bank",
            Category::Notes => "notes",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The client card's fields (as its JSON names them) this category blanks.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Category::Contact => &[
                "email",
                "invoice_email",
                "technical_email",
                "business_email",
                "phone",
                "mobile",
                "fax",
                "website",
                "contact_person",
                "contact_persons",
            ],
            Category::Identity => &["id_number", "birth_date", "registration_ip"],
            Category::Address => &["address", "installation_address", "floor", "flat"],
            Category::Bank => &["bank_accounts"],
            Category::Notes => &["note", "internal_note_1", "internal_note_2", "highlight"],
        }
    }
}

/// Blanks the category's fields of the card.
pub fn erase(client: &mut Client, category: Category) {
    match category {
        Category::Contact => {
            for text in [
                &mut client.email,
                &mut client.invoice_email,
                &mut client.technical_email,
                &mut client.business_email,
                &mut client.phone,
                &mut client.mobile,
                &mut client.fax,
                &mut client.website,
                &mut client.contact_person,
            ] {
                text.clear();
            }
            client.contact_persons.clear();
        }
        Category::Identity => {
            client.id_number.clear();
            client.birth_date = None;
            client.registration_ip = None;
        }
        Category::Address => {
            client.address = Address {
                country: std::mem::take(&mut client.address.country),
                ..Address::default()
            };
            client.installation_address = None;
            client.floor.clear();
            client.flat.clear();
        }
        Category::Bank => client.bank_accounts.clear(),
        Category::Notes => {
            for text in [
                &mut client.note,
                &mut client.internal_note_1,
                &mut client.internal_note_2,
            ] {
                text.clear();
            }
            client.highlight = None;
        }
    }
}

/// Blanks the category's fields in a recorded copy of the card (an audit record's JSON):
/// text becomes empty, lists empty, anything else null.
pub fn scrub(record: &mut serde_json::Value, category: Category) {
    let Some(object) = record.as_object_mut() else {
        return;
    };
    for field in category.fields() {
        if let Some(value) = object.get_mut(*field) {
            *value = match value {
                serde_json::Value::String(_) => serde_json::Value::String(String::new()),
                serde_json::Value::Array(_) => serde_json::Value::Array(Vec::new()),
                _ => serde_json::Value::Null,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{BankAccount, ContactPerson};

    fn full() -> Client {
        Client {
            number: "1001".into(),
            name: "Nováková Jana".into(),
            company_id: "12345678".into(),
            vat_id: "CZ12345678".into(),
            email: "jana@example.cz".into(),
            phone: "+420 777".into(),
            contact_person: "Petr".into(),
            contact_persons: vec![ContactPerson {
                name: "Petr".into(),
                ..ContactPerson::default()
            }],
            id_number: "AB123".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1980, 2, 29),
            address: Address {
                street: "Dlouhá 12".into(),
                postcode: "110 00".into(),
                city: "Praha".into(),
                country: "CZ".into(),
                gps: None,
            },
            floor: "3".into(),
            bank_accounts: vec![BankAccount {
                number: "123/0800".into(),
                ..BankAccount::default()
            }],
            note: "gate code".into(),
            highlight: Some("pays late".into()),
            registration_ip: Some("192.0.2.7".parse().unwrap()),
            ..Client::default()
        }
    }

    #[test]
    fn each_category_blanks_its_fields_and_keeps_the_books_fields() {
        for category in Category::ALL {
            let mut c = full();
            erase(&mut c, category);
            let mut record = serde_json::to_value(full()).unwrap();
            scrub(&mut record, category);
            let erased = serde_json::to_value(&c).unwrap();
            for field in category.fields() {
                let value = &erased[*field];
                assert!(
                    value.is_null()
                        || value == ""
                        || value.as_array().is_some_and(Vec::is_empty)
                        || (*field == "address" && value["street"] == ""),
                    "{field} after erasing {}: {value}",
                    category.as_str()
                );
                let scrubbed = &record[*field];
                assert!(
                    scrubbed.is_null()
                        || scrubbed == ""
                        || scrubbed.as_array().is_some_and(Vec::is_empty),
                    "{field} scrubbed: {scrubbed}"
                );
            }
            for kept in ["number", "name", "company_id", "vat_id", "invoicing"] {
                assert_eq!(
                    erased[kept],
                    serde_json::to_value(full()).unwrap()[kept],
                    "{kept} is kept"
                );
            }
        }
        let mut c = full();
        erase(&mut c, Category::Address);
        assert_eq!(c.address.country, "CZ", "the country stays");
    }

    #[test]
    fn categories_are_named() {
        for category in Category::ALL {
            assert_eq!(Category::parse(category.as_str()), Some(category));
        }
        assert_eq!(Category::parse("finance"), None);
    }
}
