//! A client's row: its columns, and the conversions between the row and the record.

use ispd_billing::client::{
    Address, Characteristic, Client, ClientKind, ContactPerson, Gps, Invoicing, Relationship,
};
use ispd_billing::money;

use super::list::fold;
use crate::{StoreResult, corrupt, date_text, parse_opt_date};

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: i64,
    number: String,
    name: String,
    kind: String,
    name2: String,
    contact_person: String,
    street: String,
    postcode: String,
    city: String,
    country: String,
    gps_lat: Option<String>,
    gps_lon: Option<String>,
    floor: String,
    flat: String,
    id_number: String,
    birth_date: Option<String>,
    company_id: String,
    vat_id: String,
    email: String,
    invoice_email: String,
    technical_email: String,
    business_email: String,
    phone: String,
    mobile: String,
    fax: String,
    website: String,
    status: String,
    has_install_address: i64,
    install_street: String,
    install_postcode: String,
    install_city: String,
    install_country: String,
    install_gps_lat: Option<String>,
    install_gps_lon: Option<String>,
    contract_returned_on: Option<String>,
    highlight_reason: Option<String>,
    invoice_group: String,
    payment_type: String,
    billing_day: i64,
    due_days: Option<i64>,
    send_by_post: i64,
    send_by_email: i64,
    no_auto_reminders: i64,
    proforma: i64,
    never_suspend: i64,
    suspend_after_days: Option<i64>,
    opening_balance_minor: i64,
    sipo_number: String,
    no_bulk_email: i64,
    contact_persons_json: String,
    note: String,
    internal_note_1: String,
    internal_note_2: String,
    portal_login: String,
    language: String,
    characteristic: String,
    referrer: String,
    referral_source: String,
    partner_programme: String,
    registration_ip: Option<String>,
    version: i64,
}

pub(super) const COLUMNS: &str =
    "id, number, name, kind, name2, contact_person, street, postcode, city, country,
    gps_lat, gps_lon, floor, flat, id_number, birth_date, company_id, vat_id, email, invoice_email,
    technical_email, business_email, phone, mobile, fax, website, status, has_install_address,
    install_street, install_postcode, install_city, install_country, install_gps_lat,
    install_gps_lon, contract_returned_on, highlight_reason, invoice_group, payment_type,
    billing_day, due_days, send_by_post, send_by_email, no_auto_reminders, proforma,
    never_suspend, suspend_after_days, opening_balance_minor, sipo_number, no_bulk_email,
    contact_persons_json, note, internal_note_1, internal_note_2, portal_login, language,
    characteristic, referrer, referral_source, partner_programme, registration_ip, version";

/// Columns written by [`bind_client`], in its bind order.
pub(super) const WRITE_COLUMNS: &str =
    "number, number_numeric, name, name_folded, kind, name2, contact_person, street, postcode,
    city, country, gps_lat, gps_lon, floor, flat, id_number, birth_date, company_id, vat_id,
    email, invoice_email, technical_email, business_email, phone, mobile, fax, website,
    status, has_install_address, install_street, install_postcode, install_city,
    install_country, install_gps_lat, install_gps_lon, contract_returned_on, highlight_reason,
    invoice_group, payment_type, billing_day, due_days, send_by_post, send_by_email,
    no_auto_reminders, proforma, never_suspend, suspend_after_days, opening_balance_minor,
    sipo_number, no_bulk_email, contact_persons_json, note, internal_note_1, internal_note_2,
    portal_login, language, characteristic, referrer, referral_source, partner_programme,
    registration_ip, version";
pub(super) const COLUMN_COUNT: usize = 62;

fn gps(lat: Option<String>, lon: Option<String>) -> StoreResult<Option<Gps>> {
    match (lat, lon) {
        (Some(lat), Some(lon)) => Ok(Some(Gps {
            lat: lat.parse().map_err(|_| corrupt(format!("gps {lat:?}")))?,
            lon: lon.parse().map_err(|_| corrupt(format!("gps {lon:?}")))?,
        })),
        _ => Ok(None),
    }
}

fn gps_text(g: Option<Gps>) -> (Option<String>, Option<String>) {
    match g {
        Some(g) => (Some(g.lat.to_string()), Some(g.lon.to_string())),
        None => (None, None),
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredContactPerson {
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    note: String,
}

/// A client's contact persons, kept as JSON text (never queried relationally).
fn contact_persons(number: &str, json: &str) -> StoreResult<Vec<ContactPerson>> {
    let stored: Vec<StoredContactPerson> = serde_json::from_str(json)
        .map_err(|e| corrupt(format!("client {number}: contact persons: {e}")))?;
    Ok(stored
        .into_iter()
        .map(|c| ContactPerson {
            name: c.name,
            role: c.role,
            email: c.email,
            phone: c.phone,
            note: c.note,
        })
        .collect())
}

fn relationship(
    characteristic: &str,
    referrer: String,
    referral_source: String,
    partner_programme: String,
) -> StoreResult<Relationship> {
    Ok(Relationship {
        characteristic: Characteristic::parse(characteristic)
            .ok_or_else(|| corrupt(format!("client characteristic {characteristic:?}")))?,
        referrer,
        referral_source,
        partner_programme,
    })
}

fn registration_ip(text: Option<String>) -> StoreResult<Option<std::net::IpAddr>> {
    text.map(|ip| {
        ip.parse()
            .map_err(|_| corrupt(format!("client registration_ip {ip:?}")))
    })
    .transpose()
}

impl ClientRow {
    pub(super) fn into_client(self) -> StoreResult<Client> {
        let contact_persons = contact_persons(&self.number, &self.contact_persons_json)?;
        Ok(Client {
            id: self.id,
            kind: ClientKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("client kind {:?}", self.kind)))?,
            address: Address {
                street: self.street,
                postcode: self.postcode,
                city: self.city,
                country: self.country,
                gps: gps(self.gps_lat, self.gps_lon)?,
            },
            birth_date: parse_opt_date("birth_date", self.birth_date)?,
            installation_address: if self.has_install_address != 0 {
                Some(Address {
                    street: self.install_street,
                    postcode: self.install_postcode,
                    city: self.install_city,
                    country: self.install_country,
                    gps: gps(self.install_gps_lat, self.install_gps_lon)?,
                })
            } else {
                None
            },
            contract_returned_on: parse_opt_date(
                "contract_returned_on",
                self.contract_returned_on,
            )?,
            highlight: self.highlight_reason,
            invoicing: Invoicing {
                invoice_group: self.invoice_group,
                payment_type: self.payment_type,
                billing_day: u32::try_from(self.billing_day).unwrap_or(1),
                due_days: self.due_days.and_then(|d| u32::try_from(d).ok()),
                send_by_post: self.send_by_post != 0,
                send_by_email: self.send_by_email != 0,
                no_auto_reminders: self.no_auto_reminders != 0,
                proforma: self.proforma != 0,
                never_suspend: self.never_suspend != 0,
                suspend_after_days: self.suspend_after_days.and_then(|d| u32::try_from(d).ok()),
                variable_symbols: Vec::new(),
                opening_balance: money::from_minor_units(self.opening_balance_minor),
                sipo_number: self.sipo_number,
            },
            contact_persons,
            number: self.number,
            name: self.name,
            name2: self.name2,
            contact_person: self.contact_person,
            floor: self.floor,
            flat: self.flat,
            id_number: self.id_number,
            company_id: self.company_id,
            vat_id: self.vat_id,
            email: self.email,
            invoice_email: self.invoice_email,
            technical_email: self.technical_email,
            business_email: self.business_email,
            phone: self.phone,
            mobile: self.mobile,
            fax: self.fax,
            website: self.website,
            groups: Vec::new(),
            status: self.status,
            bank_accounts: Vec::new(),
            no_bulk_email: self.no_bulk_email != 0,
            note: self.note,
            internal_note_1: self.internal_note_1,
            internal_note_2: self.internal_note_2,
            portal_login: self.portal_login,
            language: self.language,
            relationship: relationship(
                &self.characteristic,
                self.referrer,
                self.referral_source,
                self.partner_programme,
            )?,
            registration_ip: registration_ip(self.registration_ip)?,
            version: self.version,
        })
    }
}

type ScalarQuery<'q> = sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments>;

/// Binds every column after `id`, in COLUMNS order.
pub(super) fn bind_client<'q>(q: ScalarQuery<'q>, c: &Client) -> StoreResult<ScalarQuery<'q>> {
    let (lat, lon) = gps_text(c.address.gps);
    let install = c.installation_address.clone().unwrap_or_default();
    let (ilat, ilon) = gps_text(install.gps);
    let contacts: Vec<StoredContactPerson> = c
        .contact_persons
        .iter()
        .map(|p| StoredContactPerson {
            name: p.name.clone(),
            role: p.role.clone(),
            email: p.email.clone(),
            phone: p.phone.clone(),
            note: p.note.clone(),
        })
        .collect();
    let opening = money::to_minor_units(
        "client.invoicing.opening_balance",
        c.invoicing.opening_balance,
    )?;
    Ok(q.bind(c.number.clone())
        .bind(ispd_billing::client::numeric_value(&c.number))
        .bind(c.name.clone())
        .bind(fold(&c.name))
        .bind(c.kind.as_str().to_owned())
        .bind(c.name2.clone())
        .bind(c.contact_person.clone())
        .bind(c.address.street.clone())
        .bind(c.address.postcode.clone())
        .bind(c.address.city.clone())
        .bind(c.address.country.clone())
        .bind(lat)
        .bind(lon)
        .bind(c.floor.clone())
        .bind(c.flat.clone())
        .bind(c.id_number.clone())
        .bind(c.birth_date.map(date_text))
        .bind(c.company_id.clone())
        .bind(c.vat_id.clone())
        .bind(c.email.clone())
        .bind(c.invoice_email.clone())
        .bind(c.technical_email.clone())
        .bind(c.business_email.clone())
        .bind(c.phone.clone())
        .bind(c.mobile.clone())
        .bind(c.fax.clone())
        .bind(c.website.clone())
        .bind(c.status.clone())
        .bind(i64::from(c.installation_address.is_some()))
        .bind(install.street)
        .bind(install.postcode)
        .bind(install.city)
        .bind(install.country)
        .bind(ilat)
        .bind(ilon)
        .bind(c.contract_returned_on.map(date_text))
        .bind(c.highlight.clone())
        .bind(c.invoicing.invoice_group.clone())
        .bind(c.invoicing.payment_type.clone())
        .bind(i64::from(c.invoicing.billing_day))
        .bind(c.invoicing.due_days.map(i64::from))
        .bind(i64::from(c.invoicing.send_by_post))
        .bind(i64::from(c.invoicing.send_by_email))
        .bind(i64::from(c.invoicing.no_auto_reminders))
        .bind(i64::from(c.invoicing.proforma))
        .bind(i64::from(c.invoicing.never_suspend))
        .bind(c.invoicing.suspend_after_days.map(i64::from))
        .bind(opening)
        .bind(c.invoicing.sipo_number.clone())
        .bind(i64::from(c.no_bulk_email))
        .bind(serde_json::to_string(&contacts).unwrap_or_else(|_| "[]".into()))
        .bind(c.note.clone())
        .bind(c.internal_note_1.clone())
        .bind(c.internal_note_2.clone())
        .bind(c.portal_login.clone())
        .bind(c.language.clone())
        .bind(c.relationship.characteristic.as_str())
        .bind(c.relationship.referrer.clone())
        .bind(c.relationship.referral_source.clone())
        .bind(c.relationship.partner_programme.clone())
        .bind(c.registration_ip.map(|ip| ip.to_string()))
        .bind(c.version))
}
