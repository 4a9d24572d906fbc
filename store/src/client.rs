//! Clients and their child rows (groups, assigned variable symbols, bank accounts).

use ispd_billing::client::{
    Address, BankAccount, Characteristic, Client, ClientKind, ContactPerson, Duplicate, Gps,
    Invoicing, Relationship,
};
use ispd_billing::money;
use sqlx::AnyConnection;

use super::{
    Actor, Arg, Audit, Page, PageRequest, Store, StoreError, StoreResult, Where, WriteTx, corrupt,
    date_text, now, parse_opt_date, unique_as_conflict,
};
use crate::page::{Order, fetch_page};
use sqlx::AssertSqlSafe;

#[derive(sqlx::FromRow)]
struct ClientRow {
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

const COLUMNS: &str =
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
const WRITE_COLUMNS: &str =
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
const COLUMN_COUNT: usize = 62;

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
    fn into_client(self) -> StoreResult<Client> {
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

/// Filters for listing clients; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    pub name_contains: String,
    pub group: String,
    pub status: String,
    pub city: String,
    /// The language the client is written to in (BILLmanager's list filter).
    pub language: String,
    pub characteristic: Option<Characteristic>,
    /// Whether the signed contract came back (ISPadmin "Smlouva vrácena"); `None`: either.
    pub contract_returned: Option<bool>,
    /// Only clients with an active subscription on this tariff (the "active product").
    pub tariff: String,
    /// Registered (created) on or after / on or before these days.
    pub registered_from: Option<chrono::NaiveDate>,
    pub registered_until: Option<chrono::NaiveDate>,
    /// Only clients owing something: an open document.
    pub owing: bool,
}

/// A search result and the field that matched.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub client: Client,
    pub matched: &'static str,
}

/// Case-folded text for name search, done in Rust so "Novák" matches "NOVÁK" on both backends.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn like_pattern(fragment: &str) -> String {
    let escaped = fragment
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", fold(&escaped))
}

impl Store {
    async fn load_children(conn: &mut AnyConnection, client: &mut Client) -> StoreResult<()> {
        client.groups = sqlx::query_scalar(
            "SELECT code FROM client_group_member WHERE client_id = $1 ORDER BY code",
        )
        .bind(client.id)
        .fetch_all(&mut *conn)
        .await?;
        client.invoicing.variable_symbols = sqlx::query_scalar(
            "SELECT variable_symbol FROM client_variable_symbol WHERE client_id = $1 ORDER BY position",
        )
        .bind(client.id)
        .fetch_all(&mut *conn)
        .await?;
        let accounts: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT number, iban, bic FROM client_bank_account WHERE client_id = $1 ORDER BY position",
        )
        .bind(client.id)
        .fetch_all(&mut *conn)
        .await?;
        client.bank_accounts = accounts
            .into_iter()
            .map(|(number, iban, bic)| BankAccount { number, iban, bic })
            .collect();
        Ok(())
    }

    async fn client_where(
        conn: &mut AnyConnection,
        condition: &str,
        key: Arg,
    ) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {COLUMNS} FROM client WHERE {condition}");
        let query = sqlx::query_as::<_, ClientRow>(AssertSqlSafe(sql));
        let row = match key {
            Arg::Text(t) => query.bind(t).fetch_optional(&mut *conn).await?,
            Arg::Int(i) => query.bind(i).fetch_optional(&mut *conn).await?,
        };
        match row {
            Some(row) => {
                let mut client = row.into_client()?;
                Self::load_children(conn, &mut client).await?;
                Ok(Some(client))
            }
            None => Ok(None),
        }
    }

    /// Client `number` as stored, inside a use case's transaction.
    pub async fn client_in(&self, tx: &mut WriteTx, number: &str) -> StoreResult<Client> {
        Self::client_by_number(tx.conn(), number).await
    }

    pub(super) async fn client_by_number(
        conn: &mut AnyConnection,
        number: &str,
    ) -> StoreResult<Client> {
        Self::client_where(conn, "number = $1", Arg::Text(number.to_owned()))
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "client",
                key: number.to_owned(),
            })
    }

    pub(super) async fn client_id_of(conn: &mut AnyConnection, number: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT id FROM client WHERE number = $1")
            .bind(number.to_owned())
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "client",
                key: number.to_owned(),
            })
    }

    pub async fn get_client(&self, number: &str) -> StoreResult<Client> {
        let mut conn = self.pool.acquire().await?;
        Self::client_by_number(&mut conn, number).await
    }

    /// The number proposed for a new client: one past the highest numeric client number.
    pub async fn next_client_number(&self) -> StoreResult<String> {
        let mut conn = self.pool.acquire().await?;
        Self::propose_number(&mut conn).await
    }

    async fn propose_number(conn: &mut AnyConnection) -> StoreResult<String> {
        let highest: Option<i64> = sqlx::query_scalar("SELECT MAX(number_numeric) FROM client")
            .fetch_one(conn)
            .await?;
        Ok(ispd_billing::client::propose_number(highest))
    }

    /// Codes must exist in their code list; checked here because the lists are editable.
    async fn check_codes(conn: &mut AnyConnection, client: &Client) -> StoreResult<()> {
        let mut checks: Vec<(&str, &str, String)> = vec![
            ("client_status", "client.status", client.status.clone()),
            (
                "payment_type",
                "client.invoicing.payment_type",
                client.invoicing.payment_type.clone(),
            ),
        ];
        for group in &client.groups {
            checks.push(("client_group", "client.groups", group.clone()));
        }
        let group: Option<String> =
            sqlx::query_scalar("SELECT code FROM invoice_group WHERE code = $1")
                .bind(client.invoicing.invoice_group.clone())
                .fetch_optional(&mut *conn)
                .await?;
        if group.is_none() {
            return Err(StoreError::Invalid(ispd_billing::FieldError::new(
                "client.invoicing.invoice_group",
                format!("no invoice group {:?}", client.invoicing.invoice_group),
            )));
        }
        for (list, field, code) in checks {
            let found: Option<String> =
                sqlx::query_scalar("SELECT code FROM code_list WHERE list = $1 AND code = $2")
                    .bind(list.to_owned())
                    .bind(code.clone())
                    .fetch_optional(&mut *conn)
                    .await?;
            if found.is_none() {
                return Err(StoreError::Invalid(ispd_billing::FieldError::new(
                    field,
                    format!("{code:?} is not in the {list} code list"),
                )));
            }
        }
        Ok(())
    }

    /// Variable symbols identify one client for payment matching, so they may not be shared.
    async fn check_variable_symbols(conn: &mut AnyConnection, client: &Client) -> StoreResult<()> {
        if let Some(owner) = Self::variable_symbol_owner(conn, &client.number, client.id).await? {
            return Err(StoreError::Conflict {
                field: "client.number".into(),
                message: format!(
                    "{} is a variable symbol of client {owner}; payments could not tell them apart",
                    client.number
                ),
            });
        }
        for (i, vs) in client.invoicing.variable_symbols.iter().enumerate() {
            if let Some(owner) = Self::variable_symbol_owner(conn, vs, client.id).await? {
                return Err(StoreError::Conflict {
                    field: format!("client.invoicing.variable_symbols[{i}]"),
                    message: format!("{vs} is already a variable symbol of client {owner}"),
                });
            }
        }
        Ok(())
    }

    /// Another client that a payment with this variable symbol would be matched to: by its
    /// number, an assigned symbol or a service's symbol. A symbol must name one client.
    pub(super) async fn variable_symbol_owner(
        conn: &mut AnyConnection,
        vs: &str,
        except_client: i64,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT number FROM (
                SELECT number FROM client WHERE number = $1 AND id <> $2
                UNION SELECT c.number FROM client_variable_symbol v
                    JOIN client c ON c.id = v.client_id
                    WHERE v.variable_symbol = $1 AND v.client_id <> $2
                UNION SELECT c.number FROM subscription s
                    JOIN client c ON c.id = s.client_id
                    WHERE s.variable_symbol = $1 AND s.client_id <> $2
             ) AS owners LIMIT 1",
        )
        .bind(vs.to_owned())
        .bind(except_client)
        .fetch_optional(conn)
        .await?)
    }

    /// ID card and company ID reuse is reported, not refused (ISPadmin behaviour).
    async fn duplicates(conn: &mut AnyConnection, client: &Client) -> StoreResult<Vec<Duplicate>> {
        let mut found = Vec::new();
        for (field, column, value) in [
            ("id_number", "id_number", &client.id_number),
            ("company_id", "company_id", &client.company_id),
            // Czech Post collects SIPO per number: two cards with one pay each other's bills.
            ("sipo_number", "sipo_number", &client.invoicing.sipo_number),
        ] {
            if value.trim().is_empty() {
                continue;
            }
            let others: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT number FROM client WHERE {column} = $1 AND id <> $2 ORDER BY number"
            )))
            .bind(value.clone())
            .bind(client.id)
            .fetch_all(&mut *conn)
            .await?;
            found.extend(others.into_iter().map(|other_client| Duplicate {
                field,
                other_client,
            }));
        }
        Ok(found)
    }

    async fn write_children(conn: &mut AnyConnection, client: &Client) -> StoreResult<()> {
        for table in [
            "client_group_member",
            "client_variable_symbol",
            "client_bank_account",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE client_id = $1"
            )))
            .bind(client.id)
            .execute(&mut *conn)
            .await?;
        }
        for group in &client.groups {
            sqlx::query("INSERT INTO client_group_member (client_id, code) VALUES ($1, $2)")
                .bind(client.id)
                .bind(group.clone())
                .execute(&mut *conn)
                .await?;
        }
        for (position, vs) in client.invoicing.variable_symbols.iter().enumerate() {
            sqlx::query(
                "INSERT INTO client_variable_symbol (variable_symbol, client_id, position) VALUES ($1, $2, $3)",
            )
            .bind(vs.clone())
            .bind(client.id)
            .bind(position as i64)
            .execute(&mut *conn)
            .await
            .map_err(|e| unique_as_conflict(e, "client.invoicing.variable_symbols"))?;
        }
        for (position, account) in client.bank_accounts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO client_bank_account (client_id, position, number, iban, bic) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(client.id)
            .bind(position as i64)
            .bind(account.number.clone())
            .bind(account.iban.clone())
            .bind(account.bic.clone())
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Writes a new client as it is given, in its own transaction. An empty number gets the
    /// next free one and the card's defaults are filled in (seeding and tests write through
    /// here); the rules are the caller's: the use case validates first and puts the card's
    /// opening balance on the account (`app::clients::create`).
    pub async fn create_client(
        &self,
        actor: &Actor,
        mut client: Client,
    ) -> StoreResult<(Client, Vec<Duplicate>)> {
        let mut tx = self.begin_write().await?;
        if client.number.is_empty() {
            client.number = self.claim_client_number_in(&mut tx).await?;
        }
        client.apply_defaults();
        let saved = self.insert_client_in(&mut tx, client).await?;
        self.record_client_created_in(&mut tx, actor, &saved.0)
            .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// The next free client number, held for this transaction: on PostgreSQL a second
    /// creator waits, then sees the first one's number.
    pub async fn claim_client_number_in(&self, tx: &mut WriteTx) -> StoreResult<String> {
        if self.backend == super::Backend::Postgres {
            sqlx::query("LOCK TABLE client IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx.conn())
                .await?;
        }
        Self::propose_number(tx.conn()).await
    }

    /// Writes a new client card in the caller's transaction; the number is given (see
    /// [`Store::claim_client_number_in`]). Returns the stored client and the
    /// duplicate-identifier warnings. Its audit record is [`Store::record_client_created_in`],
    /// once the use case has put the card's opening balance on the account.
    pub async fn insert_client_in(
        &self,
        tx: &mut WriteTx,
        mut client: Client,
    ) -> StoreResult<(Client, Vec<Duplicate>)> {
        let tx = tx.conn();
        client.id = 0;
        client.version = 1;
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM client WHERE number = $1")
            .bind(client.number.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict {
                field: "client.number".into(),
                message: format!("client number {} is already taken", client.number),
            });
        }
        Self::check_codes(tx, &client).await?;
        Self::check_variable_symbols(tx, &client).await?;
        let warnings = Self::duplicates(tx, &client).await?;
        let at = now();
        let sql = format!(
            "INSERT INTO client ({}, created_at, updated_at) VALUES ({}) RETURNING id",
            WRITE_COLUMNS,
            (1..=COLUMN_COUNT + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let id: i64 = bind_client(sqlx::query_scalar(AssertSqlSafe(sql)), &client)?
            .bind(at.clone())
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| unique_as_conflict(e, "client.number"))?;
        client.id = id;
        Self::write_children(tx, &client).await?;
        Ok((client, warnings))
    }

    /// The audit record of a client created in this transaction.
    pub async fn record_client_created_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        client: &Client,
    ) -> StoreResult<()> {
        Audit::new("client.create", "client", &client.number)
            .client(&client.number)
            .after(client)
            .record(tx.conn(), actor)
            .await
    }

    /// Writes the card over the stored one of `client.id` at `version_read`, with its child
    /// rows (groups, variable symbols, bank accounts).
    async fn write_card(
        conn: &mut AnyConnection,
        client: &Client,
        version_read: i64,
    ) -> StoreResult<()> {
        let assignments = WRITE_COLUMNS
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE client SET {assignments}, updated_at = ${} WHERE id = ${} AND version = ${} RETURNING id",
            COLUMN_COUNT + 1,
            COLUMN_COUNT + 2,
            COLUMN_COUNT + 3
        );
        let updated: Option<i64> = bind_client(sqlx::query_scalar(AssertSqlSafe(sql)), client)?
            .bind(now())
            .bind(client.id)
            .bind(version_read)
            .fetch_optional(&mut *conn)
            .await?;
        if updated.is_none() {
            return Err(StoreError::Stale {
                entity: "client",
                key: client.number.clone(),
            });
        }
        Self::write_children(conn, client).await
    }

    /// Writes a card whose personal data the use case erased (at the version it read),
    /// applies `scrub` to every recorded copy of the card in the client's audit history, and
    /// records the erasure naming only its `categories`.
    pub async fn erase_client_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        mut client: Client,
        categories: &[&str],
        scrub: &(dyn Fn(&mut serde_json::Value) + Sync),
    ) -> StoreResult<Client> {
        let conn = tx.conn();
        let version_read = client.version;
        client.version += 1;
        Self::write_card(conn, &client, version_read).await?;
        let history: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, before_json, after_json FROM audit WHERE entity = 'client' AND entity_key = $1",
        )
        .bind(client.number.clone())
        .fetch_all(&mut *conn)
        .await?;
        for (id, before, after) in history {
            let scrubbed = |json: Option<String>| -> StoreResult<Option<String>> {
                let Some(json) = json else { return Ok(None) };
                let mut value: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| corrupt(format!("audit record {id}: {e}")))?;
                scrub(&mut value);
                Ok(Some(value.to_string()))
            };
            sqlx::query("UPDATE audit SET before_json = $1, after_json = $2 WHERE id = $3")
                .bind(scrubbed(before)?)
                .bind(scrubbed(after)?)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Audit::new("client.erase", "client", &client.number)
            .client(&client.number)
            .after(&serde_json::json!({ "categories": categories }))
            .record(conn, actor)
            .await?;
        Ok(client)
    }

    /// Replaces a client record as it is given (the use case validated it).
    /// `client.version` must be the version the edit was based on. The client number is the
    /// key and cannot change here.
    pub async fn update_client(
        &self,
        actor: &Actor,
        client: Client,
    ) -> StoreResult<(Client, Vec<Duplicate>)> {
        let mut tx = self.begin_write().await?;
        let (_, client, warnings) = self.update_client_in(&mut tx, actor, client).await?;
        tx.commit().await?;
        Ok((client, warnings))
    }

    /// [`Store::update_client`] inside a use case's transaction; returns the card as it was
    /// before too (its opening balance is the use case's to put on the account).
    pub async fn update_client_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        mut client: Client,
    ) -> StoreResult<(Client, Client, Vec<Duplicate>)> {
        let tx = tx.conn();
        let before = Self::client_by_number(tx, &client.number).await?;
        if before.version != client.version {
            return Err(StoreError::Stale {
                entity: "client",
                key: client.number,
            });
        }
        client.id = before.id;
        client.apply_defaults();
        Self::check_codes(tx, &client).await?;
        Self::check_variable_symbols(tx, &client).await?;
        let warnings = Self::duplicates(tx, &client).await?;
        client.version = before.version + 1;
        Self::write_card(tx, &client, before.version).await?;
        Audit::new("client.update", "client", &client.number)
            .client(&client.number)
            .before(&before)
            .after(&client)
            .record(tx, actor)
            .await?;
        Ok((before, client, warnings))
    }

    /// Deletes a contact that never became a client: refused once it has subscriptions.
    pub async fn delete_client(&self, actor: &Actor, number: &str) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::client_by_number(&mut tx, number).await?;
        let subscriptions: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM subscription WHERE client_id = $1")
                .bind(before.id)
                .fetch_one(&mut *tx)
                .await?;
        if subscriptions > 0 {
            return Err(StoreError::Precondition(format!(
                "client {number} has {subscriptions} subscription(s); end and delete them first"
            )));
        }
        // The books first: a billed charge is on an invoice and can no longer be deleted,
        // so only a client without books is told to delete its (then unbilled) charges.
        if Self::has_books(&mut tx, before.id).await? {
            return Err(StoreError::Precondition(format!(
                "client {number} has invoices or payments; its books must stay"
            )));
        }
        let charges: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM one_off_charge WHERE client_id = $1 AND invoice_id IS NULL",
        )
        .bind(before.id)
        .fetch_one(&mut *tx)
        .await?;
        if charges > 0 {
            return Err(StoreError::Precondition(format!(
                "client {number} has {charges} unbilled one-off charge(s); delete them first"
            )));
        }
        for table in [
            "client_group_member",
            "client_variable_symbol",
            "client_bank_account",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE client_id = $1"
            )))
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM invoice_line WHERE invoice_id IN
                (SELECT id FROM invoice WHERE client_id = $1)",
        )
        .bind(before.id)
        .execute(&mut *tx)
        .await?;
        for table in ["invoice", "one_off_charge"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE client_id = $1"
            )))
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM client WHERE id = $1")
            .bind(before.id)
            .execute(&mut *tx)
            .await?;
        Audit::new("client.delete", "client", number)
            .client(number)
            .before(&before)
            .record(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_clients(
        &self,
        filter: &ClientFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Client>> {
        let mut w = Where::default();
        if !filter.name_contains.is_empty() {
            w.and(
                "name_folded LIKE {} ESCAPE '\\'",
                Arg::Text(like_pattern(&filter.name_contains)),
            );
        }
        if !filter.group.is_empty() {
            w.and(
                "id IN (SELECT client_id FROM client_group_member WHERE code = {})",
                Arg::Text(filter.group.clone()),
            );
        }
        if !filter.status.is_empty() {
            w.and("status = {}", Arg::Text(filter.status.clone()));
        }
        if !filter.city.is_empty() {
            w.and("city = {}", Arg::Text(filter.city.clone()));
        }
        if !filter.language.is_empty() {
            w.and("language = {}", Arg::Text(filter.language.clone()));
        }
        if let Some(characteristic) = filter.characteristic {
            w.and(
                "characteristic = {}",
                Arg::Text(characteristic.as_str().to_owned()),
            );
        }
        Self::filter_books(&mut w, filter);
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<ClientRow> = fetch_page(
            &mut conn,
            &format!("SELECT {COLUMNS} FROM client"),
            ("id", Order::OldestFirst),
            w,
            page,
        )
        .await?;
        let mut clients = Vec::with_capacity(rows.len());
        for row in rows {
            let mut client = row.into_client()?;
            Self::load_children(&mut conn, &mut client).await?;
            clients.push(client);
        }
        Ok(page.page(clients, |c| c.id))
    }

    /// The filters of the client list that read the contract, the services and the books.
    fn filter_books(w: &mut Where, filter: &ClientFilter) {
        match filter.contract_returned {
            Some(true) => w.and_true("contract_returned_on IS NOT NULL"),
            Some(false) => w.and_true("contract_returned_on IS NULL"),
            None => {}
        }
        if !filter.tariff.is_empty() {
            w.and(
                "id IN (SELECT s.client_id FROM subscription s JOIN tariff t ON t.id = s.tariff_id
                    WHERE s.state = 'active' AND t.name = {})",
                Arg::Text(filter.tariff.clone()),
            );
        }
        // created_at is an RFC 3339 UTC timestamp: its first ten characters are its day.
        if let Some(day) = filter.registered_from {
            w.and("substr(created_at, 1, 10) >= {}", Arg::Text(date_text(day)));
        }
        if let Some(day) = filter.registered_until {
            w.and("substr(created_at, 1, 10) <= {}", Arg::Text(date_text(day)));
        }
        if filter.owing {
            w.and_true(
                "id IN (SELECT client_id FROM invoice WHERE state IN ('unpaid', 'partially_paid'))",
            );
        }
    }

    /// Finds clients the way a support desk asks: by number, variable symbol, login, IP, MAC,
    /// e-mail, phone or a fragment of the name. Exact identifiers are tried first.
    pub async fn search_clients(&self, query: &str, limit: u32) -> StoreResult<Vec<SearchHit>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let limit = if limit == 0 { 20 } else { limit.min(200) } as usize;
        let mac = query
            .parse::<ispd_provisioning::mac::MacAddress>()
            .ok()
            .map(|m| m.to_string());
        let mut probes: Vec<(&'static str, String, String)> = vec![
            ("number", "SELECT id FROM client WHERE number = $1".into(), query.to_owned()),
            (
                "variable_symbol",
                "SELECT client_id FROM client_variable_symbol WHERE variable_symbol = $1
                 UNION SELECT client_id FROM subscription WHERE variable_symbol = $1".into(),
                query.to_owned(),
            ),
            (
                "login",
                "SELECT s.client_id FROM login l JOIN subscription s ON s.id = l.subscription_id WHERE l.username = $1".into(),
                query.to_owned(),
            ),
            (
                "ip",
                "SELECT s.client_id FROM login l JOIN subscription s ON s.id = l.subscription_id WHERE l.ipv4 = $1 OR l.ipv6_prefix = $1".into(),
                query.to_owned(),
            ),
            (
                "email",
                "SELECT id FROM client WHERE LOWER(email) = $1 OR LOWER(invoice_email) = $1 OR LOWER(technical_email) = $1 OR LOWER(business_email) = $1".into(),
                query.to_lowercase(),
            ),
            (
                "phone",
                "SELECT id FROM client WHERE REPLACE(phone, ' ', '') = $1 OR REPLACE(mobile, ' ', '') = $1".into(),
                query.replace(' ', ""),
            ),
            (
                "name",
                "SELECT id FROM client WHERE name_folded LIKE $1 ESCAPE '\\' ORDER BY name_folded".into(),
                like_pattern(query),
            ),
        ];
        if let Some(mac) = mac {
            probes.insert(
                4,
                (
                    "mac",
                    "SELECT s.client_id FROM login l JOIN subscription s ON s.id = l.subscription_id WHERE l.mac = $1".into(),
                    mac,
                ),
            );
        }
        let mut conn = self.pool.acquire().await?;
        let mut hits: Vec<SearchHit> = Vec::new();
        for (matched, sql, arg) in probes {
            let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(arg)
                .fetch_all(&mut *conn)
                .await?;
            for id in ids {
                if hits.len() >= limit {
                    return Ok(hits);
                }
                if hits.iter().any(|h| h.client.id == id) {
                    continue;
                }
                if let Some(client) = Self::client_where(&mut conn, "id = $1", Arg::Int(id)).await?
                {
                    hits.push(SearchHit { client, matched });
                }
            }
        }
        Ok(hits)
    }
}

type ScalarQuery<'q> = sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments>;

/// Binds every column after `id`, in COLUMNS order.
fn bind_client<'q>(q: ScalarQuery<'q>, c: &Client) -> StoreResult<ScalarQuery<'q>> {
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
